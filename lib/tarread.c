/* tarread.c - placeholder: being written this session. */
