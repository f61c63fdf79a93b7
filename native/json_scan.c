/*
 * The byte scanner of src/json-slices.ts in C: finds where a JSON value being cut out of a
 * chunk ends (a string's closing quote, the bracket that closes a container), the loop that
 * reading a large state document spends most of its time in when its slices are not parsed
 * (a re-subscription's known tasks). The JavaScript loop in json-slices.ts is the reference and
 * the fallback; this one must give the same results for every input (test/json-scan.test.ts
 * compares them on random documents cut into random chunks).
 *
 * scan(buf, start, state, brackets) -> number
 *   buf: the chunk (a Uint8Array, shorter than 2 GiB: positions travel in `state` as int32);
 *   start: where the scan resumes (0 <= start <= length).
 *   state: an Int32Array of 6: [0] in a string (0/1), [1] the next byte is escaped (0/1),
 *     [2] depth (open brackets; 0 while a string alone is cut out), read and written back;
 *     [3] written: newlines seen outside strings, [4] written: the index of the last one (-1),
 *     [5] written: where the scan stopped when it returns -2.
 *   brackets: a Uint8Array of the open brackets ('{' or '['), brackets[d] for depth d + 1.
 * Returns the index just past the value's end; -1 when the chunk ended first (the state says
 * where the value stands); -2 when an opening bracket found `brackets` full (state[5] is its
 * index, nothing consumed: the caller grows `brackets` and calls again from there). A closing
 * bracket that does not match its opening one ends the value there, as in JavaScript (JSON.parse
 * then reports the error at that byte).
 */
#include <node_api.h>
#include <stdint.h>
#include <string.h>

#define QUOTE 0x22
#define BACKSLASH 0x5c
#define STATE_LENGTH 6

static napi_value number(napi_env env, int64_t value) {
  napi_value result;
  if (napi_create_int64(env, value, &result) != napi_ok) return NULL;
  return result;
}

static int bytes_of(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array) {
    return 0;
  }
  *data = raw;
  return 1;
}

static napi_value js_scan(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    napi_throw_type_error(env, NULL, "scan(buf, start, state, brackets)");
    return NULL;
  }
  uint8_t *buf;
  size_t n;
  uint8_t *brackets;
  size_t capacity;
  int64_t start;
  napi_typedarray_type type;
  size_t state_length;
  void *state_raw;
  napi_value ignored;
  size_t offset;
  if (!bytes_of(env, argv[0], &buf, &n) || !bytes_of(env, argv[3], &brackets, &capacity) ||
      napi_get_value_int64(env, argv[1], &start) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &type, &state_length, &state_raw, &ignored,
                               &offset) != napi_ok ||
      type != napi_int32_array || state_length < STATE_LENGTH || start < 0 ||
      (uint64_t)start > n || n > INT32_MAX) {
    napi_throw_type_error(env, NULL, "scan(buf, start, state, brackets): bad arguments");
    return NULL;
  }
  int32_t *state = state_raw;
  int in_string = state[0] != 0;
  int escaped = state[1] != 0;
  int64_t depth = state[2];
  int32_t lines = 0;
  int64_t last_newline = -1;
  int64_t end = -1;
  size_t i = (size_t)start;
  if (depth < 0 || (uint64_t)depth > capacity) {
    napi_throw_range_error(env, NULL, "scan: depth out of range");
    return NULL;
  }
  while (i < n) {
    if (in_string) {
      if (escaped) {
        escaped = 0;
        i++;
        continue;
      }
      /* Most bytes are in strings: jump to the next quote (memchr), then tell whether it is
       * escaped by the parity of the backslashes right before it (the byte at i is not
       * escaped, so a run that reaches back to i starts there). */
      const uint8_t *quote = memchr(buf + i, QUOTE, n - i);
      size_t at = quote == NULL ? n : (size_t)(quote - buf);
      size_t run = 0;
      while (at - run > i && buf[at - run - 1] == BACKSLASH) run++;
      if (quote == NULL) {
        /* The string goes on in the next chunk: an odd run escapes its first byte. */
        escaped = (int)(run & 1);
        i = n;
        break;
      }
      i = at + 1;
      if (run & 1) continue;
      in_string = 0;
      if (depth == 0) {
        end = (int64_t)at + 1;
        break;
      }
      continue;
    }
    uint8_t c = buf[i];
    if (c == QUOTE) {
      in_string = 1;
    } else if (c == 0x7b || c == 0x5b) {
      if ((uint64_t)depth >= capacity) {
        state[0] = in_string;
        state[1] = escaped;
        state[2] = (int32_t)depth;
        state[3] = lines;
        state[4] = (int32_t)last_newline;
        state[5] = (int32_t)i;
        return number(env, -2);
      }
      brackets[depth++] = c;
    } else if (c == 0x7d || c == 0x5d) {
      /* `}` is `{` + 2, `]` is `[` + 2. */
      depth--;
      if (depth <= 0 || brackets[depth] != c - 2) {
        end = (int64_t)i + 1;
        break;
      }
    } else if (c == 0x0a) {
      lines++;
      last_newline = (int64_t)i;
    }
    i++;
  }
  state[0] = in_string;
  state[1] = escaped;
  state[2] = (int32_t)depth;
  state[3] = lines;
  state[4] = (int32_t)last_newline;
  return number(env, end);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "scan", NAPI_AUTO_LENGTH, js_scan, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "scan", fn) != napi_ok) {
    napi_throw_error(env, NULL, "mesodns json_scan: N-API call failed");
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
