/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_registry.c - nvmf-hostd's controllers by name: the lowest free
 * nvme<index>, lookups by the exact name only (nvme01 is not nvme1), a
 * controller not announced yet is not found, removal frees the name, and
 * a thousand controllers are each found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hostd.h"

#define MANY	1000

static struct hd_ctrl *
new_ctrl(void)
{
	struct hd_ctrl *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	pthread_mutex_init(&c->scan_lock, NULL);
	c->refs = 1;		/* the registry's */
	c->announced = true;
	return c;
}

/* Found by its name, with a reference the caller puts back. */
static void
assert_found(const char *name, struct hd_ctrl *want)
{
	struct hd_ctrl *c = hd_ctrl_find(name);

	assert_ptr_equal(c, want);
	if (c != NULL) {
		assert_string_equal(c->name, name);
		hd_ctrl_put(c);
	}
}

static void
test_names_and_lookups(void **state)
{
	struct hd_ctrl *a = new_ctrl(), *b = new_ctrl(), *c = new_ctrl(), *d = new_ctrl();

	(void)state;
	hd_registry_add(a);
	hd_registry_add(b);
	assert_string_equal(a->name, "nvme0");
	assert_string_equal(b->name, "nvme1");
	assert_true(hd_registry_add_at(c, 7));	/* a restored controller keeps its name */
	assert_false(hd_registry_add_at(d, 7));
	assert_found("nvme7", c);
	assert_found("nvme1", b);
	assert_found("nvme0", a);
	assert_found("nvme01", NULL);
	assert_found("nvme+1", NULL);
	assert_found("nvme1x", NULL);
	assert_found("nvme", NULL);
	assert_found("nvme2", NULL);
	assert_found("nvme4294967296", NULL);
	assert_found("nvme99999999999999999999", NULL);
	assert_found("", NULL);
	assert_found("sda", NULL);

	b->announced = false;	/* still being set up: not for others yet */
	assert_found("nvme1", NULL);
	b->announced = true;

	hd_registry_remove(b);
	assert_found("nvme1", NULL);
	hd_registry_add(d);	/* the lowest free index again */
	assert_string_equal(d->name, "nvme1");
	assert_found("nvme1", d);

	hd_registry_remove(a);
	hd_registry_remove(c);
	hd_registry_remove(d);
	assert_null(hd_ctrls_first());
	hd_ctrl_put(a);
	hd_ctrl_put(b);
	hd_ctrl_put(c);
	hd_ctrl_put(d);
}

static void
test_a_thousand(void **state)
{
	static struct hd_ctrl *all[MANY];
	char name[16];

	(void)state;
	for (int i = 0; i < MANY; i++) {
		all[i] = new_ctrl();
		hd_registry_add(all[i]);
	}
	for (int i = MANY - 1; i >= 0; i--) {
		snprintf(name, sizeof(name), "nvme%d", i);
		assert_found(name, all[i]);
	}
	snprintf(name, sizeof(name), "nvme%d", MANY);
	assert_found(name, NULL);
	for (int i = 0; i < MANY; i += 2)
		hd_registry_remove(all[i]);
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "nvme%d", i);
		assert_found(name, i % 2 == 0 ? NULL : all[i]);
	}
	for (int i = 1; i < MANY; i += 2)
		hd_registry_remove(all[i]);
	for (int i = 0; i < MANY; i++)
		hd_ctrl_put(all[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_lookups),
		cmocka_unit_test(test_a_thousand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
