/* test_sync_stress.c — placeholder, being written. */
#include <criterion/criterion.h>
