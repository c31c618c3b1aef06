/* test_queue_stress.c — placeholder, being written. */
#include <criterion/criterion.h>
