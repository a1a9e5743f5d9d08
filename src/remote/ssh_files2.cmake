# SSH sessions to remote instances (libssh): sources and tests, listed here for
# src/remote/CMakeLists.txt. The library links PkgConfig::LIBSSH; the tests
# also need tests/support/test_sshd.cpp (a real sshd started per test).
set(SSH_SESSION_SOURCES ssh_session.cpp ssh_run.cpp ssh_script.cpp)
set(SSH_SESSION_TESTS ssh_script_test.cpp ssh_session_test.cpp)
