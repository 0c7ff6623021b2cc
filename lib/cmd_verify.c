/* cmd_verify.c - placeholder: being written this session. */
