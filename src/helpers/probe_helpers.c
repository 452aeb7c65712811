// SPDX-License-Identifier: MIT
/*
 * bpf_probe_read_user / _str, probe_read_kernel / _str, probe_write_user,
 * and the legacy probe_read / probe_read_str (the user forms: uebpf has
 * only user memory). Arbitrary addresses are read and written through
 * process_vm_readv / process_vm_writev on this process, so the kernel
 * checks them and a bad one is -EFAULT, not a crash. As in the kernel, a
 * failed read zeroes the destination. Kernel memory is out of reach: the
 * kernel forms always fail with -EFAULT.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "helpers/internal.h"

int helper_read_unsafe(void *dst, uintptr_t src, size_t size)
{
	struct iovec local = {dst, size}, remote = {(void *)src, size};

	if (!size)
		return 0;
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)size)
		return 0;
	memset(dst, 0, size);
	return -EFAULT;
}

/* Page by page, since the string may end right before an unmapped page. */
int helper_read_unsafe_str(char *dst, uintptr_t src, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), done = 0;

	if (!size)
		return 0;
	while (done < size - 1) {
		size_t chunk = page - (src + done) % page;
		char *nul;

		if (chunk > size - 1 - done)
			chunk = size - 1 - done;
		if (helper_read_unsafe(dst + done, src + done, chunk)) {
			memset(dst, 0, size);
			return -EFAULT;
		}
		nul = memchr(dst + done, '\0', chunk);
		if (nul)
			return (int)(nul - dst) + 1;
		done += chunk;
	}
	dst[size - 1] = '\0';
	return (int)size;
}

HELPER(probe_read_user)
{
	(void)r4, (void)r5;
	if (!helper_mem_ok(r1, r2, true))
		return helper_err(EFAULT);
	return (uint64_t)(int64_t)helper_read_unsafe((void *)(uintptr_t)r1, r3, r2);
}

HELPER(probe_read_user_str)
{
	(void)r4, (void)r5;
	if (!helper_mem_ok(r1, r2, true))
		return helper_err(EFAULT);
	if (r2 > INT32_MAX)
		return helper_err(EINVAL);
	return (uint64_t)(int64_t)helper_read_unsafe_str((char *)(uintptr_t)r1, r3, r2);
}

HELPER(probe_read_kernel)
{
	(void)r3, (void)r4, (void)r5;
	if (!helper_mem_ok(r1, r2, true))
		return helper_err(EFAULT);
	memset((void *)(uintptr_t)r1, 0, r2);
	return helper_err(EFAULT);
}

HELPER(probe_read_kernel_str)
{
	return helper_probe_read_kernel(r1, r2, r3, r4, r5);
}

HELPER(probe_write_user)
{
	struct iovec local = {(void *)(uintptr_t)r2, r3}, remote = {(void *)(uintptr_t)r1, r3};

	(void)r4, (void)r5;
	if (!helper_mem_ok(r2, r3, false))
		return helper_err(EFAULT);
	if (!r3)
		return 0;
	if (process_vm_writev(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)r3)
		return helper_err(EFAULT);
	return 0;
}
