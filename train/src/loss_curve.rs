//! The loss curve of a run as an SVG: one line per task (its losses averaged over a sliding
//! window of its own steps), over the run's steps.

use std::collections::BTreeMap;
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;
const MARGIN: f64 = 48.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// `losses`: `(step, task, loss)` as the trainer records them.
pub fn loss_curve_svg(losses: &[(usize, String, f32)], window: usize) -> String {
    let mut by_task: BTreeMap<&str, Vec<(usize, f32)>> = BTreeMap::new();
    for (step, task, loss) in losses {
        by_task.entry(task).or_default().push((*step, *loss));
    }
    let last_step = losses.iter().map(|l| l.0).max().unwrap_or(0).max(1) as f64;
    let smoothed: Vec<(&str, Vec<(f64, f64)>)> = by_task
        .iter()
        .map(|(task, points)| {
            let line = points
                .iter()
                .enumerate()
                .map(|(i, (step, _))| {
                    let from = i.saturating_sub(window.max(1) - 1);
                    let span = &points[from..=i];
                    let mean = span.iter().map(|p| p.1 as f64).sum::<f64>() / span.len() as f64;
                    (*step as f64, mean)
                })
                .collect();
            (*task, line)
        })
        .collect();
    let top = smoothed
        .iter()
        .flat_map(|(_, l)| l.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1e-6)
        * 1.05;
    let x = |step: f64| MARGIN + step / last_step * (WIDTH - 2.0 * MARGIN);
    let y = |loss: f64| HEIGHT - MARGIN - loss / top * (HEIGHT - 2.0 * MARGIN);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<line x1="{m}" y1="{b}" x2="{r}" y2="{b}" stroke="black"/><line x1="{m}" y1="{t}" x2="{m}" y2="{b}" stroke="black"/>"#,
        m = MARGIN,
        b = HEIGHT - MARGIN,
        r = WIDTH - MARGIN,
        t = MARGIN
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">step (0-{})</text><text x="12" y="{}" transform="rotate(-90 12 {})" text-anchor="middle">loss (mean of {} steps of the task; axis 0-{:.2})</text>"#,
        WIDTH / 2.0,
        HEIGHT - 12.0,
        last_step,
        HEIGHT / 2.0,
        HEIGHT / 2.0,
        window,
        top
    );
    for (i, (task, line)) in smoothed.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<String> = line
            .iter()
            .map(|(s, l)| format!("{:.1},{:.1}", x(*s), y(*l)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"/>"#,
            points.join(" ")
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" fill="{colour}">{}</text>"#,
            WIDTH - MARGIN - 70.0,
            MARGIN + 14.0 * i as f64,
            task.replace('<', "&lt;").replace('>', "&gt;")
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_task() {
        let losses = vec![
            (0, "QA".to_string(), 1.4),
            (1, "T<->V".to_string(), 3.0),
            (2, "QA".to_string(), 1.0),
            (3, "T<->V".to_string(), 2.0),
        ];
        let svg = loss_curve_svg(&losses, 2);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("T&lt;-&gt;V"));
    }
}
