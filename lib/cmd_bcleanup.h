/* cmd_bcleanup.h - placeholder: being written this session. */
#ifndef PITR_CMD_BCLEANUP_H
#define PITR_CMD_BCLEANUP_H
#endif
