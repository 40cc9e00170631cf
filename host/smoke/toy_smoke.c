// SPDX-License-Identifier: GPL-2.0
/*
 * toy_smoke: a throw-away guest driver that exercises pcidev-host's `toy`
 * model end to end (see README.md): BAR read, shared level INTx, DMA into a
 * coherent buffer through the server's DMA map, then MSI.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>

#define TOY_ID 0x70790001
#define R_ID 0x00
#define R_SCRATCH 0x04
#define R_IRQ 0x08
#define R_DMA_LO 0x0c
#define R_DMA_HI 0x10
#define R_DMA_LEN 0x14
#define R_DMA_GO 0x18
#define R_DMA_STATUS 0x1c
#define R_MSI_GO 0x20
#define DMA_BYTES 256
#define SEED 42

struct toy {
	void __iomem *bar;
	atomic_t intx, msi, spurious;
};

static irqreturn_t toy_intx(int irq, void *data)
{
	struct toy *t = data;

	if (!ioread32(t->bar + R_IRQ)) {
		atomic_inc(&t->spurious);
		return IRQ_NONE;
	}
	iowrite32(0, t->bar + R_IRQ);
	atomic_inc(&t->intx);
	return IRQ_HANDLED;
}

static irqreturn_t toy_msi(int irq, void *data)
{
	struct toy *t = data;

	atomic_inc(&t->msi);
	return IRQ_HANDLED;
}

static bool wait_count(atomic_t *c, int n)
{
	int i;

	for (i = 0; i < 200 && atomic_read(c) < n; i++)
		msleep(10);
	return atomic_read(c) >= n;
}

static u32 xorshift(u32 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static int toy_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct toy *t;
	dma_addr_t handle;
	u8 *buf;
	u32 x = SEED, status;
	int ret, i, bad = 0;

	t = devm_kzalloc(&pdev->dev, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	t->bar = pcim_iomap(pdev, 0, 0);
	if (!t->bar)
		return -ENOMEM;

	dev_info(&pdev->dev, "SMOKE id=%#x (expect %#x) irq=%d pin=%d\n",
		 ioread32(t->bar + R_ID), TOY_ID, pdev->irq, pdev->pin);

	/* INTx, shared, level: raise three times, the handler lowers. */
	ret = devm_request_irq(&pdev->dev, pdev->irq, toy_intx, IRQF_SHARED,
			       "toy_smoke", t);
	if (ret) {
		dev_err(&pdev->dev, "SMOKE request_irq: %d\n", ret);
		return ret;
	}
	for (i = 1; i <= 3; i++) {
		iowrite32(1, t->bar + R_IRQ);
		if (!wait_count(&t->intx, i))
			break;
	}
	dev_info(&pdev->dev, "SMOKE intx handled=%d spurious=%d irq_reg=%u\n",
		 atomic_read(&t->intx), atomic_read(&t->spurious),
		 ioread32(t->bar + R_IRQ));

	/* DMA of DMA_BYTES xorshift bytes into a coherent buffer. */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	buf = ret ? NULL : dmam_alloc_coherent(&pdev->dev, PAGE_SIZE, &handle, GFP_KERNEL);
	if (buf) {
		pci_set_master(pdev);
		iowrite32(lower_32_bits(handle), t->bar + R_DMA_LO);
		iowrite32(upper_32_bits(handle), t->bar + R_DMA_HI);
		iowrite32(DMA_BYTES, t->bar + R_DMA_LEN);
		iowrite32(SEED, t->bar + R_DMA_GO);
		status = ioread32(t->bar + R_DMA_STATUS);
		for (i = 0; i < DMA_BYTES; i += 4) {
			u32 w = xorshift(&x);

			bad += memcmp(buf + i, &w, 4) != 0;
		}
		dev_info(&pdev->dev, "SMOKE dma to %pad status=%u (1 = done) first=%*ph mismatched_words=%d\n",
			 &handle, status, 8, buf, bad);
	} else {
		dev_err(&pdev->dev, "SMOKE no DMA buffer\n");
	}

	/* MSI: switch from INTx, fire vector 0 twice. */
	devm_free_irq(&pdev->dev, pdev->irq, t);
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0) {
		dev_err(&pdev->dev, "SMOKE msi alloc: %d\n", ret);
		return 0;
	}
	ret = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, 0), toy_msi, 0,
			       "toy_smoke_msi", t);
	if (ret) {
		dev_err(&pdev->dev, "SMOKE msi request: %d\n", ret);
		return 0;
	}
	iowrite32(0, t->bar + R_MSI_GO);
	wait_count(&t->msi, 1);
	iowrite32(0, t->bar + R_MSI_GO);
	wait_count(&t->msi, 2);
	dev_info(&pdev->dev, "SMOKE msi handled=%d\n", atomic_read(&t->msi));
	return 0;
}

static const struct pci_device_id toy_ids[] = {
	{ PCI_DEVICE(0x1337, 0x7070) },
	{ }
};
MODULE_DEVICE_TABLE(pci, toy_ids);

static struct pci_driver toy_driver = {
	.name = "toy_smoke",
	.id_table = toy_ids,
	.probe = toy_probe,
};
module_pci_driver(toy_driver);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pcidev-host toy model smoke test");
