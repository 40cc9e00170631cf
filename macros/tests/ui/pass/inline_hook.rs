//! The inline form, with a hook the user's struct implements.

use pcidevc_macros::pci_device;

#[pci_device(inline = r#"
    device adder {
        id 0x1234:0x5678;
        state sum: u32 = 0;
        hook add(a: u32, b: u32) -> u32;
        bar 0 mem32 size 16 {
            register SUM @ 0x0 : u32 {
                read sum;
                on write { sum = add(sum, value); }
            }
        }
        scenario adds "the hook adds" {
            write SUM = 2;
            write SUM = 3;
            expect SUM == 5;
        }
    }
"#)]
#[derive(Debug, Default)]
pub struct Adder;

impl adder::Hooks for Adder {
    fn add(&mut self, a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }
}

fn main() {
    adder::scenarios::run_all(Adder::default).unwrap();
    assert_eq!(adder::INFO.vendor_id, 0x1234);
}
