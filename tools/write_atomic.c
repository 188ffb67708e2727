#include "tool.h"
int tool_write_atomic(int argc, char **argv) { (void)argc; (void)argv; return 1; }
