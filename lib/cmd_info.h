/* cmd_info.h - placeholder: being written this session. */
#ifndef PITR_CMD_INFO_H
#define PITR_CMD_INFO_H
#endif
