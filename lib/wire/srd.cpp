// placeholder: filled by the SRD header codec work
#include "wire/ether.h"
