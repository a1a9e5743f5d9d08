# Files of src/sources/hf (paths relative to that folder).
set(HF_SOURCES hf_ref.cpp hf_patterns.cpp hf_response.cpp hf_error.cpp hf_cache.cpp hf_resolver.cpp)
set(HF_TESTS hf_ref_test.cpp hf_patterns_test.cpp hf_response_test.cpp hf_error_test.cpp hf_cache_test.cpp)
