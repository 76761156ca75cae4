//! A progress bar on stderr for long CLI work (indicatif hides it when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};
use studydesk_app::{Event, Stage};

pub struct Bars {
    bar: ProgressBar,
}

impl Bars {
    pub fn new() -> Bars {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} passages  {msg}")
                .expect("valid template"),
        );
        Bars { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    pub fn show(&self, event: &Event) {
        let Event::Progress {
            file,
            stage,
            index,
            total,
            done,
            pages,
            chunks,
        } = event
        else {
            return;
        };
        match stage {
            Stage::File => {
                self.bar.set_prefix(format!(
                    "file {}/{}",
                    index.unwrap_or(0) + 1,
                    total.unwrap_or(0)
                ));
                self.bar.set_message(file.clone());
                self.bar.set_length(0);
                self.bar.set_position(0);
            }
            Stage::Extracted => {
                if file == "question bank" {
                    self.bar.set_prefix("indexing the question bank");
                }
                let pages = pages.map(|p| format!(" ({p} pages)")).unwrap_or_default();
                self.bar.set_message(format!("{file}{pages}"));
                self.bar.set_length(chunks.unwrap_or(0) as u64);
                self.bar.set_position(0);
            }
            Stage::Ocr => self.bar.set_message(format!(
                "{file}: OCR page {}/{}",
                done.unwrap_or(0) + 1,
                total.unwrap_or(0)
            )),
            Stage::Chunks => self.bar.set_position(done.unwrap_or(0) as u64),
        }
    }
}
