/* check_cmd_bcleanup.c - placeholder: being written this session. */
#include <stdio.h>
int main(void) { puts("not written yet"); return 1; }
