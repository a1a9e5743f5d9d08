# Files of src/remote/progress (paths relative to that folder): the parsers of
# remote commands' output. Pure code; links only haul_base.
set(PROGRESS_SOURCES
  progress_parser.cpp
  command_tool.cpp
  line_splitter.cpp
  text_fields.cpp
  generic_parser.cpp
  wget_parser.cpp
  curl_parser.cpp
  aria2c_parser.cpp
  tqdm_parser.cpp
  civitdl_parser.cpp)
set(PROGRESS_TESTS
  command_tool_test.cpp
  line_splitter_test.cpp
  text_fields_test.cpp
  generic_parser_test.cpp
  wget_parser_test.cpp
  curl_parser_test.cpp
  aria2c_parser_test.cpp
  tqdm_parser_test.cpp
  civitdl_parser_test.cpp)
