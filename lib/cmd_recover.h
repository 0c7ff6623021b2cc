/* cmd_recover.h - placeholder: being written this session. */
#ifndef PITR_CMD_RECOVER_H
#define PITR_CMD_RECOVER_H
#endif
