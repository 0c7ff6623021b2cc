/* cmd_recover.c - placeholder: being written this session. */
