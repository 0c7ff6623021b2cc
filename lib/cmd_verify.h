/* cmd_verify.h - placeholder: being written this session. */
#ifndef PITR_CMD_VERIFY_H
#define PITR_CMD_VERIFY_H
#endif
