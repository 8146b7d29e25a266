//! The vocabulary of the synthetic world: what kinds of shapes exist, their colours, how they
//! move, the backgrounds, and the fixed ties between what is seen and what is heard
//! (kind → instrument timbre, colour → pitch register, background → ambient sound).

use serde::Serialize;

macro_rules! vocab {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in a fixed order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word used in captions, tags and answers.
            pub fn word(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            /// Position in [`Self::ALL`].
            pub fn index(self) -> usize {
                Self::ALL.iter().position(|v| *v == self).unwrap_or(0)
            }
        }
    };
}

vocab!(
    /// The kind of a shape. Each kind sounds like its own instrument.
    Kind {
        Circle => "circle",
        Square => "square",
        Triangle => "triangle",
        Star => "star",
        Cross => "cross",
        Diamond => "diamond",
    }
);

vocab!(
    /// The timbre family a sound is played with.
    Instrument {
        Flute => "flute",
        Clarinet => "clarinet",
        Bell => "bell",
        Guitar => "guitar",
        Organ => "organ",
        Violin => "violin",
    }
);

vocab!(
    /// The colour of a shape. Each colour sounds in its own pitch register.
    Colour {
        Red => "red",
        Orange => "orange",
        Yellow => "yellow",
        Green => "green",
        Blue => "blue",
        Purple => "purple",
    }
);

vocab!(
    /// How a shape moves. Each motion has its own rhythm. `Dancing` is the motion of a shape
    /// playing a melody: its height follows the pitch of the tune.
    Motion {
        Bouncing => "bouncing",
        Sliding => "sliding",
        Spinning => "spinning",
        Orbiting => "orbiting",
        Zigzagging => "zigzagging",
        Pulsing => "pulsing",
        Dancing => "dancing",
    }
);

vocab!(
    /// The backdrop of a scene. Each has its own ambient sound.
    Background {
        Night => "night",
        Sky => "sky",
        Checkerboard => "checkerboard",
        Stripes => "stripes",
    }
);

vocab!(
    /// The ambient sound heard under a scene, tied to its background.
    Ambience {
        Crickets => "crickets",
        Wind => "wind",
        Ticking => "ticking",
        Rain => "rain",
    }
);

impl Kind {
    /// The instrument a shape of this kind sounds like.
    pub fn instrument(self) -> Instrument {
        Instrument::ALL[self.index()]
    }
}

impl Instrument {
    /// The shape kind whose sound this instrument is.
    pub fn kind(self) -> Kind {
        Kind::ALL[self.index()]
    }
}

impl Colour {
    /// Display colour.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Colour::Red => [220, 30, 30],
            Colour::Orange => [245, 140, 20],
            Colour::Yellow => [240, 220, 30],
            Colour::Green => [40, 170, 60],
            Colour::Blue => [30, 70, 230],
            Colour::Purple => [150, 40, 190],
        }
    }

    /// The lowest pitch of this colour's register, in Hz: red is lowest, purple highest, seven
    /// semitones apart (G2, D3, A3, E4, B4, F#5).
    pub fn register_hz(self) -> f64 {
        98.0 * 2f64.powf(7.0 * self.index() as f64 / 12.0)
    }

    /// How captions name the register.
    pub fn register_word(self) -> &'static str {
        [
            "very low",
            "low",
            "low-middle",
            "middle",
            "high",
            "very high",
        ][self.index()]
    }
}

impl Motion {
    /// The motions of free objects (everything but `Dancing`).
    pub const FREE: &'static [Motion] = &[
        Motion::Bouncing,
        Motion::Sliding,
        Motion::Spinning,
        Motion::Orbiting,
        Motion::Zigzagging,
        Motion::Pulsing,
    ];

    /// The verb used in captions ("a red star bounces").
    pub fn verb(self) -> &'static str {
        match self {
            Motion::Bouncing => "bounces",
            Motion::Sliding => "slides across",
            Motion::Spinning => "spins",
            Motion::Orbiting => "circles around",
            Motion::Zigzagging => "zigzags",
            Motion::Pulsing => "pulses",
            Motion::Dancing => "dances",
        }
    }

    /// How captions describe the rhythm this motion makes.
    pub fn rhythm_phrase(self) -> &'static str {
        match self {
            Motion::Bouncing => "a short note on every bounce",
            Motion::Sliding => "one long gliding note",
            Motion::Spinning => "a trembling note",
            Motion::Orbiting => "two notes slowly taking turns",
            Motion::Zigzagging => "two notes quickly taking turns",
            Motion::Pulsing => "a note swelling and fading",
            Motion::Dancing => "a melody",
        }
    }
}

impl Background {
    /// The ambient sound of this background.
    pub fn ambience(self) -> Ambience {
        Ambience::ALL[self.index()]
    }

    /// How captions name the background.
    pub fn phrase(self) -> &'static str {
        match self {
            Background::Night => "a dark night background",
            Background::Sky => "a pale sky background",
            Background::Checkerboard => "a grey checkerboard",
            Background::Stripes => "a striped wall",
        }
    }
}

/// A shape's tempo word, for captions and answers.
pub fn tempo_word(bpm: f64) -> &'static str {
    if bpm < 108.0 {
        "slow"
    } else if bpm < 132.0 {
        "moderate"
    } else {
        "fast"
    }
}

/// The pitch-class name of a frequency (A4 = 440 Hz), used to name a melody's key.
pub fn key_name(hz: f64) -> &'static str {
    const NAMES: [&str; 12] = [
        "A", "A sharp", "B", "C", "C sharp", "D", "D sharp", "E", "F", "F sharp", "G", "G sharp",
    ];
    let semis = (12.0 * (hz / 440.0).log2()).round() as i64;
    NAMES[semis.rem_euclid(12) as usize]
}
