/* check_cmd_info.c - placeholder: being written this session. */
#include <stdio.h>
int main(void) { puts("not written yet"); return 1; }
