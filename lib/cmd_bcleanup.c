/* cmd_bcleanup.c - placeholder: being written this session. */
