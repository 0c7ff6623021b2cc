/* catalog.c - placeholder: being written this session. */
