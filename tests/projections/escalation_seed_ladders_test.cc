// Seeds 002, 003 and 004 driven through their whole ladders (filled in below).
#include "escalation_helpers.h"
