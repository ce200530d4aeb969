// placeholder: filled by the lib/wire L3/L4 work
#include "wire/ether.h"
