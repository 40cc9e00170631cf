{#-
  The C Linux PCI driver skeleton. Rendered by codegen/src/c_driver.rs from a
  `DriverC` view. The handler's body and the scenario steps come from the
  shapes of items.c and step.c, rendered there and wrapped to 100 columns
  (`lines`, `handler`: complete lines, empty for a blank one), so this file
  reads as the driver it produces.
  Kernel style: tabs, lines within 100 columns, checked with checkpatch.pl.
-#}
// SPDX-License-Identifier: GPL-2.0
/*
{%- for l in intro %}
 *{% if !l.is_empty() %} {{ l }}{% endif %}
{%- endfor %}
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "../{{ name }}.h"
#include "pcidevc_selftest.h"

static bool selftest = true;
module_param(selftest, bool, 0444);
MODULE_PARM_DESC(selftest, "Run the spec's scenarios as a self-test when a device binds");

/* Driver data of one bound device; everything in it is device-managed. */
struct {{ name }} {
	struct pci_dev *pdev;
{%- for b in bars %}
	void __iomem *bar{{ b.index }};	/* {{ b.what }} */
{%- endfor %}
{%- if dma %}
	u8 *dma;		/* coherent buffer of {{ upper }}_DMA_BUFFER_SIZE bytes */
	dma_addr_t dma_addr;
{%- endif %}
{%- if let Some(irq) = irq %}
	atomic_t irqs;		/* interrupts handled */
{%- if irq.multi %}
	/* One per declared vector: what each vector's handler counted. */
	struct {{ name }}_vector {
		struct {{ name }} *d;
		atomic_t irqs;		/* interrupts this vector handled */
		int consumed;		/* of those, taken by `expect msi` steps */
		bool exclusive;		/* message-signalled: never shared */
	} vec[{{ irq.vectors }}];
{%- endif %}
{%- endif %}
};
{%- if let Some(irq) = irq %}

static irqreturn_t {{ name }}_irq(int irq, void *data)
{
{%- if irq.multi %}
	struct {{ name }}_vector *v = data;
	struct {{ name }} *d = v->d;
{%- else %}
	struct {{ name }} *d = data;
{%- endif %}
{%- for l in irq.handler %}
{{ l }}
{%- endfor %}
{%- if irq.multi %}
	atomic_inc(&v->irqs);
{%- endif %}
	atomic_inc(&d->irqs);
	/* pcidevc: extension point: handle the interrupt here. */
	return IRQ_HANDLED;
}
{%- endif %}
{%- for s in scenarios %}

/* Scenario `{{ s.name }}`{% if !s.description.is_empty() %}: {{ s.description }}{% endif %}. */
static void {{ name }}_scenario_{{ s.name }}(struct {{ name }} *d, struct pcidevc_tally *t)
{
	pcidevc_scenario(t, "{{ s.name }}");
{%- for l in s.lines %}
{{ l }}
{%- endfor %}
}
{%- endfor %}

/* Runs the spec's scenarios as a self-test and logs the verdict. */
static void {{ name }}_selftest(struct {{ name }} *d)
{
	struct pcidevc_tally t;

	pcidevc_tally_init(&t, {% if irq.is_some() %}&d->irqs{% else %}NULL{% endif %});
{%- for s in scenarios %}
	{{ name }}_scenario_{{ s.name }}(d, &t);
{%- endfor %}
	pcidevc_verdict(&t);
}

/*
 * Maps BAR `bar` after checking that it is the kind of space the spec says
 * and at least `size` bytes long; managed (unmapped and released on unbind).
 */
static void __iomem *{{ name }}_map_bar(struct pci_dev *pdev, int bar,
{{ map_bar_pad }}unsigned long kind, resource_size_t size)
{
	if (!(pci_resource_flags(pdev, bar) & kind)) {
		dev_err(&pdev->dev, "BAR %d is not %s space\n", bar,
			kind == IORESOURCE_IO ? "I/O" : "memory");
		return IOMEM_ERR_PTR(-ENODEV);
	}
	if (pci_resource_len(pdev, bar) < size) {
		dev_err(&pdev->dev, "BAR %d is smaller than %llu bytes\n", bar,
			(unsigned long long)size);
		return IOMEM_ERR_PTR(-ENODEV);
	}
	return pcim_iomap_region(pdev, bar, KBUILD_MODNAME);
}

static int {{ name }}_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct {{ name }} *d;
	int ret;
{%- if let Some(irq) = irq %}
	int i;
{%- endif %}

	dev_info(&pdev->dev, "probe: device %#06x revision %#04x\n",
		 pdev->device, pdev->revision);
	d = devm_kzalloc(&pdev->dev, sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->pdev = pdev;
	pci_set_drvdata(pdev, d);

	/* I/O and memory decoding, disabled again on unbind. */
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
{%- if let Some(why) = set_master %}
	/* {{ why }} */
	pci_set_master(pdev);
{%- endif %}
{%- if dma %}
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK({{ upper }}_DMA_MASK_BITS));
	if (ret)
		return ret;
	d->dma = dmam_alloc_coherent(&pdev->dev, {{ upper }}_DMA_BUFFER_SIZE, &d->dma_addr,
				     GFP_KERNEL);
	if (!d->dma)
		return -ENOMEM;
{%- endif %}
{%- for b in bars %}

	d->bar{{ b.index }} = {{ name }}_map_bar(pdev, {{ b.index }}, {{ b.kind }}, {{ b.size }});
	if (IS_ERR(d->bar{{ b.index }}))
		return PTR_ERR(d->bar{{ b.index }});
{%- endfor %}
{%- if let Some(irq) = irq %}

	/* {{ irq.comment }} */
	ret = pci_alloc_irq_vectors(pdev, 1, {{ irq.vectors }}, {{ irq.types }});
	if (ret < 0)
		return ret;
	for (i = 0; i < ret; i++) {
{%- if irq.multi %}
		struct {{ name }}_vector *v = &d->vec[i];
		int err;

		v->d = d;
		v->exclusive = pdev->msix_enabled || pdev->msi_enabled;
		err = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, i), {{ name }}_irq,
				       IRQF_SHARED, KBUILD_MODNAME, v);
{%- else %}
		int err = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, i), {{ name }}_irq,
					   IRQF_SHARED, KBUILD_MODNAME, d);
{%- endif %}

		if (err)
			return err;
	}
	dev_info(&pdev->dev, "irq %d (%s, %d vector(s))\n", pci_irq_vector(pdev, 0),
		 pdev->msix_enabled ? "MSI-X" : pdev->msi_enabled ? "MSI" : "INTx", ret);
{%- endif %}

	/* pcidevc: extension point: more setup before the self-test. */
	if (selftest)
		{{ name }}_selftest(d);
	/* pcidevc: extension point: start the device; an error fails the probe. */
	return 0;
}

static void {{ name }}_remove(struct pci_dev *pdev)
{
{%- if irq.is_some() %}
	struct {{ name }} *d = pci_get_drvdata(pdev);
{% endif %}
	/*
	 * pcidevc: extension point: quiesce the device (stop DMA, mask its
	 * interrupts); it is still fully usable here. Managed resources are
	 * released after this returns, in reverse order of acquisition.
	 */
{%- if irq.is_some() %}
	dev_info(&pdev->dev, "unbind: %d interrupt(s) handled\n", atomic_read(&d->irqs));
{%- else %}
	dev_info(&pdev->dev, "unbind\n");
{%- endif %}
}

static const struct pci_device_id {{ name }}_ids[] = {
	{ PCI_DEVICE({{ upper }}_VENDOR_ID, {{ upper }}_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, {{ name }}_ids);

static struct pci_driver {{ name }}_driver = {
	.name = KBUILD_MODNAME,
	.id_table = {{ name }}_ids,
	.probe = {{ name }}_probe,
	.remove = {{ name }}_remove,
};
module_pci_driver({{ name }}_driver);

MODULE_AUTHOR("pcidevc");
MODULE_DESCRIPTION("{{ description }}");
MODULE_LICENSE("GPL");
