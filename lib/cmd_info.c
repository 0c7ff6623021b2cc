/* cmd_info.c - placeholder: being written this session. */
