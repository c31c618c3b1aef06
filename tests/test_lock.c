/* test_lock.c — placeholder, being written. */
#include <criterion/criterion.h>
