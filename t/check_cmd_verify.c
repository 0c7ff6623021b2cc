/* check_cmd_verify.c - placeholder: being written this session. */
#include <stdio.h>
int main(void) { puts("not written yet"); return 1; }
