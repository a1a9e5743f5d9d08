# Files of src/sources/civitai (paths relative to that folder).
set(CIVITAI_SOURCES)
set(CIVITAI_TESTS)
