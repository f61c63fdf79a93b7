// `npm run test:package`: the packaging test alone (see PACKAGE_TESTS in ava.config.js).
import base, { PACKAGE_TESTS } from './ava.config.js';

export default { ...base, files: PACKAGE_TESTS };
