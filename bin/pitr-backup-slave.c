/* pitr-backup-slave - placeholder: being written this session. */
int main(void) { return 1; }
