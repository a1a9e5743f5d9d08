# The pure parts of src/remote (paths relative to that folder; no libssh): the
# SSH command parser and the classification of connect failures.
set(SSH_COMMAND_SOURCES ssh_command.cpp ssh_errors.cpp)
set(SSH_COMMAND_TESTS ssh_command_test.cpp ssh_errors_test.cpp)
