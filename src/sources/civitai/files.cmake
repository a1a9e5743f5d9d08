# Files of src/sources/civitai (paths relative to that folder).
set(CIVITAI_SOURCES
  civitai_ref.cpp
  civitai_api.cpp
  comfy_folders.cpp
  sidecar_names.cpp)
set(CIVITAI_TESTS
  civitai_ref_test.cpp
  civitai_api_test.cpp
  comfy_folders_test.cpp
  sidecar_names_test.cpp)
list(APPEND CIVITAI_SOURCES civitai_resolver.cpp)
