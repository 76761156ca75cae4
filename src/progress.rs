//! A progress bar on stderr for long CLI work (indicatif hides it when stderr is not a terminal).

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use studydesk::library::{Progress, ProgressSink};

pub struct Bars {
    bar: ProgressBar,
    file: Mutex<String>,
}

impl Bars {
    pub fn new() -> Bars {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} passages  {msg}")
                .expect("valid template"),
        );
        Bars {
            bar,
            file: Mutex::new(String::new()),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl ProgressSink for Bars {
    fn report(&self, event: Progress<'_>) {
        match event {
            Progress::File { file, index, total } => {
                self.bar.set_prefix(format!("file {}/{total}", index + 1));
                *self.file.lock().unwrap_or_else(|p| p.into_inner()) = file.to_string();
                self.bar.set_message(file.to_string());
                self.bar.set_length(0);
                self.bar.set_position(0);
            }
            Progress::Extracted {
                file,
                pages,
                chunks,
            } => {
                if file == "question bank" {
                    self.bar.set_prefix("indexing the question bank");
                }
                let pages = pages.map(|p| format!(" ({p} pages)")).unwrap_or_default();
                self.bar.set_message(format!("{file}{pages}"));
                self.bar.set_length(chunks as u64);
                self.bar.set_position(0);
            }
            Progress::Chunks { done, .. } => self.bar.set_position(done as u64),
        }
    }
}
