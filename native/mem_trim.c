/*
 * Returns the free memory of the C heap to the system (src/build/trim.ts).
 *
 * A state load allocates hundreds of megabytes outside the JavaScript heap and frees them a
 * moment later: the socket chunks of a SUBSCRIBED snapshot or of /master/state, the typed arrays
 * of a build. glibc keeps freed memory in its arenas, and a worker thread's arena only gives back
 * what lies at its very top, so after a load of 100k tasks about 100 MB stays resident and
 * unused. malloc_trim(3) (glibc 2.8 and later) releases every free page of every arena.
 *
 * trim() -> boolean: whether memory was released; false where there is no malloc_trim (a C
 * library other than glibc).
 */
#include <node_api.h>
#include <stdbool.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value js_trim(napi_env env, napi_callback_info info) {
  bool released = false;
#if defined(__GLIBC__)
  released = malloc_trim(0) == 1;
#endif
  napi_value result;
  if (napi_get_boolean(env, released, &result) != napi_ok) return NULL;
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, js_trim, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "trim", fn) != napi_ok) {
    napi_throw_error(env, NULL, "mesodns mem_trim: N-API call failed");
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
