// SPDX-License-Identifier: GPL-2.0
/*
 * respool_importer - a test-only dma-buf importer for import_test.
 *
 * It plays the device driver that a respool dma-buf is handed to: it
 * registers a dummy platform device with a 64-bit DMA mask (no IOMMU: its
 * mappings go through dma-direct) and, on /dev/respool_importer, takes a
 * dma-buf fd through get, attach, map, vmap and back one ioctl at a time
 * (respool_importer.h). It reads and writes the buffer only between
 * dma_buf_begin_cpu_access() and dma_buf_end_cpu_access(), as a driver
 * must.
 *
 * It is a static importer (dma_buf_attach(), no move_notify): the
 * exporter's mapping stays valid until UNMAP.
 *
 * CHECK through the pages reads the sg_table's struct pages, which a real
 * importer must not touch; with CONFIG_DMABUF_DEBUG the core scrambles
 * them (mangle_sg_table()), so there MAP reports no pages and CHECK
 * through them fails with EOPNOTSUPP.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "respool_importer.h"

/**
 * struct imp_file - one open file of /dev/respool_importer: one import
 * @lock:	serialises the file's ioctls and guards every other field
 * @dmabuf:	the imported dma-buf (our dma_buf_get() reference), or NULL
 * @attach:	its attachment to the dummy device, set with @dmabuf
 * @sgt:	the mapped sg_table, or NULL
 * @map:	the vmap, or null (iosys_map_is_null())
 */
struct imp_file {
	struct mutex lock;	/* the file's ioctls, one at a time */
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	struct iosys_map map;
};

/* The dummy device the buffers are attached and mapped for. */
static struct platform_device *imp_pdev;

static u64 imp_pattern(u64 seed, u64 word)
{
	return seed ^ (word * RESPOOL_IMP_PATTERN_MUL);
}

static long imp_import(struct imp_file *f, void __user *arg)
{
	struct respool_imp_import in;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;

	if (copy_from_user(&in, arg, sizeof(in)))
		return -EFAULT;
	if (in.__pad)
		return -EINVAL;
	if (f->dmabuf)
		return -EBUSY;
	dmabuf = dma_buf_get(in.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	attach = dma_buf_attach(dmabuf, &imp_pdev->dev);
	if (IS_ERR(attach)) {
		dma_buf_put(dmabuf);
		return PTR_ERR(attach);
	}
	in.size = dmabuf->size;
	if (copy_to_user(arg, &in, sizeof(in))) {
		dma_buf_detach(dmabuf, attach);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	f->dmabuf = dmabuf;
	f->attach = attach;
	return 0;
}

/* Describe @sgt; count its pages only where they may be looked at. */
static void imp_describe(struct sg_table *sgt, struct respool_imp_map *out)
{
	struct sg_page_iter piter;
	struct scatterlist *sg;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->nents = sgt->orig_nents;
	out->dma_nents = sgt->nents;
	for_each_sgtable_sg(sgt, sg, i)
		out->length += sg->length;
	for_each_sgtable_dma_sg(sgt, sg, i)
		out->dma_length += sg_dma_len(sg);
	if (IS_ENABLED(CONFIG_DMABUF_DEBUG))
		return;
	for_each_sgtable_page(sgt, &piter, 0) {
		if (pfn_valid(page_to_pfn(sg_page_iter_page(&piter))))
			out->pages++;
		else
			out->bad_pages++;
	}
}

static long imp_map(struct imp_file *f, void __user *arg)
{
	struct respool_imp_map out;
	struct sg_table *sgt;

	if (!f->dmabuf)
		return -EINVAL;
	if (f->sgt)
		return -EBUSY;
	sgt = imp_map_attachment(f->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	imp_describe(sgt, &out);
	if (copy_to_user(arg, &out, sizeof(out))) {
		imp_unmap_attachment(f->attach, sgt, DMA_BIDIRECTIONAL);
		return -EFAULT;
	}
	f->sgt = sgt;
	return 0;
}

static long imp_unmap(struct imp_file *f)
{
	if (!f->sgt)
		return -EINVAL;
	imp_unmap_attachment(f->attach, f->sgt, DMA_BIDIRECTIONAL);
	f->sgt = NULL;
	return 0;
}

static long imp_do_vmap(struct imp_file *f)
{
	struct iosys_map map;
	int ret;

	if (!f->dmabuf)
		return -EINVAL;
	if (!iosys_map_is_null(&f->map))
		return -EBUSY;
	ret = imp_vmap(f->dmabuf, &map);
	if (ret)
		return ret;
	/* respool's blocks are memory; CHECK and FILL read it as such. */
	if (map.is_iomem) {
		imp_vunmap(f->dmabuf, &map);
		return -EOPNOTSUPP;
	}
	f->map = map;
	return 0;
}

static long imp_do_vunmap(struct imp_file *f)
{
	if (iosys_map_is_null(&f->map))
		return -EINVAL;
	imp_vunmap(f->dmabuf, &f->map);
	iosys_map_clear(&f->map);
	return 0;
}

/* Compare @len bytes at @p, the buffer's bytes from @pos on. */
static bool imp_cmp(const void *p, size_t len, u64 pos,
		    struct respool_imp_check *c)
{
	const u64 *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		if (w[i] != imp_pattern(c->seed, pos / 8 + i)) {
			c->bad_offset = pos + i * 8;
			c->bad_word = w[i];
			return false;
		}
	}
	return true;
}

/* The pages of the sg_table, mapped one at a time. */
static int imp_check_pages(struct imp_file *f, struct respool_imp_check *c)
{
	struct sg_mapping_iter miter;
	u64 pos = 0;
	int ret = 0;

	if (IS_ENABLED(CONFIG_DMABUF_DEBUG))
		return -EOPNOTSUPP;
	sg_miter_start(&miter, f->sgt->sgl, f->sgt->orig_nents,
		       SG_MITER_FROM_SG);
	while (sg_miter_next(&miter)) {
		/* Whole words only; respool's entries are whole pages. */
		if (miter.length % 8 || pos % 8) {
			ret = -EINVAL;
			break;
		}
		if (!imp_cmp(miter.addr, miter.length, pos, c))
			break;
		pos += miter.length;
	}
	sg_miter_stop(&miter);
	return ret;
}

static long imp_check(struct imp_file *f, void __user *arg)
{
	struct respool_imp_check c;
	int ret;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if (c.__pad || c.via > RESPOOL_IMP_VIA_PAGES)
		return -EINVAL;
	if (c.via == RESPOOL_IMP_VIA_VMAP ? iosys_map_is_null(&f->map) : !f->sgt)
		return -EINVAL;
	c.bad_offset = RESPOOL_IMP_ALL_GOOD;
	c.bad_word = 0;
	ret = dma_buf_begin_cpu_access(f->dmabuf, DMA_FROM_DEVICE);
	if (ret)
		return ret;
	if (c.via == RESPOOL_IMP_VIA_VMAP)
		imp_cmp(f->map.vaddr, f->dmabuf->size, 0, &c);
	else
		ret = imp_check_pages(f, &c);
	dma_buf_end_cpu_access(f->dmabuf, DMA_FROM_DEVICE);
	if (ret)
		return ret;
	return copy_to_user(arg, &c, sizeof(c)) ? -EFAULT : 0;
}

static long imp_fill(struct imp_file *f, void __user *arg)
{
	u64 seed, *w;
	size_t i;
	int ret;

	if (copy_from_user(&seed, arg, sizeof(seed)))
		return -EFAULT;
	if (iosys_map_is_null(&f->map))
		return -EINVAL;
	ret = dma_buf_begin_cpu_access(f->dmabuf, DMA_TO_DEVICE);
	if (ret)
		return ret;
	w = f->map.vaddr;
	for (i = 0; i < f->dmabuf->size / 8; i++)
		w[i] = imp_pattern(seed, i);
	return dma_buf_end_cpu_access(f->dmabuf, DMA_TO_DEVICE);
}

static long imp_detach(struct imp_file *f)
{
	if (!f->dmabuf)
		return -EINVAL;
	if (f->sgt || !iosys_map_is_null(&f->map))
		return -EBUSY;
	dma_buf_detach(f->dmabuf, f->attach);
	dma_buf_put(f->dmabuf);
	f->attach = NULL;
	f->dmabuf = NULL;
	return 0;
}

static long imp_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct imp_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	mutex_lock(&f->lock);
	switch (cmd) {
	case RESPOOL_IMP_IOC_IMPORT:
		ret = imp_import(f, uarg);
		break;
	case RESPOOL_IMP_IOC_MAP:
		ret = imp_map(f, uarg);
		break;
	case RESPOOL_IMP_IOC_VMAP:
		ret = imp_do_vmap(f);
		break;
	case RESPOOL_IMP_IOC_CHECK:
		ret = imp_check(f, uarg);
		break;
	case RESPOOL_IMP_IOC_FILL:
		ret = imp_fill(f, uarg);
		break;
	case RESPOOL_IMP_IOC_VUNMAP:
		ret = imp_do_vunmap(f);
		break;
	case RESPOOL_IMP_IOC_UNMAP:
		ret = imp_unmap(f);
		break;
	case RESPOOL_IMP_IOC_DETACH:
		ret = imp_detach(f);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&f->lock);
	return ret;
}

static int imp_open(struct inode *inode, struct file *file)
{
	struct imp_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	iosys_map_clear(&f->map);
	file->private_data = f;
	return 0;
}

/* Undo whatever the test left, in reverse. */
static int imp_release(struct inode *inode, struct file *file)
{
	struct imp_file *f = file->private_data;

	if (!iosys_map_is_null(&f->map))
		imp_do_vunmap(f);
	if (f->sgt)
		imp_unmap(f);
	if (f->dmabuf)
		imp_detach(f);
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static const struct file_operations imp_fops = {
	.owner		= THIS_MODULE,
	.open		= imp_open,
	.release	= imp_release,
	.unlocked_ioctl	= imp_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice imp_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= RESPOOL_IMP_NAME,
	.fops	= &imp_fops,
	.mode	= 0600,
};

static int __init imp_init(void)
{
	int ret;

	imp_pdev = platform_device_register_simple(RESPOOL_IMP_NAME,
						   PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(imp_pdev))
		return PTR_ERR(imp_pdev);
	ret = dma_coerce_mask_and_coherent(&imp_pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_unregister_pdev;
	ret = misc_register(&imp_misc);
	if (ret)
		goto err_unregister_pdev;
	return 0;

err_unregister_pdev:
	platform_device_unregister(imp_pdev);
	return ret;
}

static void __exit imp_exit(void)
{
	misc_deregister(&imp_misc);
	platform_device_unregister(imp_pdev);
}

module_init(imp_init);
module_exit(imp_exit);
MODULE_DESCRIPTION("respool selftests: a dma-buf importer with a dummy device");
MODULE_LICENSE("GPL");
