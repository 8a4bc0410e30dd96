// SPDX-License-Identifier: GPL-2.0
/* file_close_fd(), which 6.10 renamed close_fd_get_file() to. */
#include <linux/fdtable.h>

static struct file *__used probe(unsigned int fd)
{
	return file_close_fd(fd);
}
