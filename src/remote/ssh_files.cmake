# The pure parts of src/remote (paths relative to that folder; no libssh): the
# SSH command parser, connect-failure classification, the shell word reader
# and the output paths of commands.
set(SSH_COMMAND_SOURCES ssh_command.cpp ssh_errors.cpp shell_words.cpp output_paths.cpp
                        output_path_learner.cpp)
set(SSH_COMMAND_TESTS ssh_command_test.cpp ssh_errors_test.cpp shell_words_test.cpp
                      output_paths_test.cpp)
