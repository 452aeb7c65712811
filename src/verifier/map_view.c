// SPDX-License-Identifier: MIT
/* The verifier's view of a map of src/maps, for the resolvers of bpf() and the VM. */
#include <errno.h>

#include "maps/maps.h"
#include "verifier/verifier.h"

int verifier_map_describe(struct map *m, struct verifier_map *out)
{
	const struct map_info *mi;

	if (!m)
		return -EBADF;
	mi = map_info(m);
	*out = (struct verifier_map){.type = mi->type,
				     .key_size = mi->key_size,
				     .value_size = mi->value_size,
				     .max_entries = mi->max_entries,
				     .flags = mi->flags,
				     .handle = m};
	return 0;
}
