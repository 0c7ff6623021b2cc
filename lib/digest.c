/* digest.c - placeholder: being written this session. */
