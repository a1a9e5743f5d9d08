# The SSH command parser of src/remote (paths relative to that folder; pure, no libssh).
set(SSH_COMMAND_SOURCES ssh_command.cpp)
set(SSH_COMMAND_TESTS ssh_command_test.cpp)
