use pcidevc_macros::pci_device;

// Two errors, reported as two compile errors: BAR size and vendor id.
#[pci_device(inline = r#"
device inline_bad {
    id 0xffff:0x0001;
    bar 0 mem32 size 24 { }
}
"#)]
struct Dev;

fn main() {}
