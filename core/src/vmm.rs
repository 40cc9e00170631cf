//! Requests a device makes of the VMM that runs it (a watchdog resets the
//! machine, pvpanic reports a guest panic).

/// What a device asks its VMM to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum VmmRequest {
    /// Reset the machine (QMP `system_reset`).
    Reset,
    /// Power the machine off (QMP `quit`).
    PowerOff,
    /// Pause the guest (QMP `stop`).
    Stop,
    /// The guest panicked: apply the VMM's panic action.
    Panic,
    /// The guest loaded a crash kernel after a panic (pvpanic's
    /// CRASH_LOADED): reported, no action.
    CrashLoaded,
}

impl VmmRequest {
    /// Every request.
    pub const ALL: [VmmRequest; 5] = [
        VmmRequest::Reset,
        VmmRequest::PowerOff,
        VmmRequest::Stop,
        VmmRequest::Panic,
        VmmRequest::CrashLoaded,
    ];

    /// How a spec writes it (`vmm reset;`).
    pub const fn keyword(self) -> &'static str {
        match self {
            VmmRequest::Reset => "reset",
            VmmRequest::PowerOff => "poweroff",
            VmmRequest::Stop => "stop",
            VmmRequest::Panic => "panic",
            VmmRequest::CrashLoaded => "crashloaded",
        }
    }

    /// The request spelled `s`.
    pub fn parse(s: &str) -> Option<VmmRequest> {
        VmmRequest::ALL.into_iter().find(|r| r.keyword() == s)
    }
}
