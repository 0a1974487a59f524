//! A port of Go's `text/tabwriter` as kubectl configures it, and the `kubectl get` table layout.
//!
//! Go sources: `src/text/tabwriter/tabwriter.go` (the column-block algorithm),
//! `staging/src/k8s.io/cli-runtime/pkg/printers/tabwriter.go` (`kubectl get`: minwidth 6,
//! tabwidth 4, padding 3, space padding) and `kubectl/pkg/describe/describe.go` `tabbedString`
//! (describe and rollout history: minwidth 0, tabwidth 8, padding 2, space padding).

/// The settings of a tabwriter that pads with spaces.
///
/// With space padding Go ignores `tabwidth`, so only the minimal cell width and the padding matter.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TabWriter {
    /// Minimal width of a column cell, padding included.
    pub(crate) min_width: usize,
    /// Spaces added to the widest cell of a column.
    pub(crate) padding: usize,
}

/// `kubectl get`: `tabwriter.NewWriter(out, 6, 4, 3, ' ', 0)`.
pub(crate) const GET: TabWriter = TabWriter {
    min_width: 6,
    padding: 3,
};

/// `kubectl describe` and `rollout history`: `out.Init(buf, 0, 8, 2, ' ', 0)`.
pub(crate) const DESCRIBE: TabWriter = TabWriter {
    min_width: 0,
    padding: 2,
};

/// One line split into cells; every cell but the last was terminated by a tab.
type Line<'a> = Vec<&'a str>;

impl TabWriter {
    /// Aligns tab-separated text as Go's tabwriter does when the text is written and flushed once.
    ///
    /// A column block is a run of consecutive lines that all have a tab-terminated cell in that
    /// column; each block gets its own width, so a line without tabs (such as `Pod Template:`)
    /// ends every block. The last cell of a line is never padded, so no trailing spaces are
    /// added after it.
    pub(crate) fn format(&self, text: &str) -> String {
        let lines: Vec<Line<'_>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
        let mut out = String::with_capacity(text.len() * 2);
        let mut widths = Vec::new();
        self.format_block(&lines, 0, lines.len(), &mut widths, &mut out);
        out
    }

    /// `Writer.format`: lays out the column `widths.len()` for lines `line0..line1`.
    fn format_block(
        &self,
        lines: &[Line<'_>],
        mut line0: usize,
        line1: usize,
        widths: &mut Vec<usize>,
        out: &mut String,
    ) {
        let column = widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= lines[this].len() {
                this += 1;
                continue;
            }
            // A cell exists in this column: print the lines before the block, then size it.
            self.write_lines(lines, line0, this, widths, out);
            line0 = this;
            let mut width = self.min_width;
            while this < line1 && column + 1 < lines[this].len() {
                width = width.max(cell_width(lines[this][column]) + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format_block(lines, line0, this, widths, out);
            widths.pop();
            line0 = this;
        }
        self.write_lines(lines, line0, line1, widths, out);
    }

    /// `Writer.writeLines`: writes whole lines, padding the cells whose width is known.
    fn write_lines(
        &self,
        lines: &[Line<'_>],
        line0: usize,
        line1: usize,
        widths: &[usize],
        out: &mut String,
    ) {
        for (i, line) in lines.iter().enumerate().take(line1).skip(line0) {
            for (j, cell) in line.iter().enumerate() {
                out.push_str(cell);
                if let Some(&w) = widths.get(j) {
                    for _ in cell_width(cell)..w {
                        out.push(' ');
                    }
                }
            }
            if i + 1 < lines.len() {
                out.push('\n');
            }
        }
    }
}

/// Go counts a cell's width in runes.
fn cell_width(cell: &str) -> usize {
    cell.chars().count()
}

/// Renders `kubectl get` rows: upper-cased headers joined by tabs, one row per line, then the
/// `kubectl get` tabwriter. Returns an empty string when there are no rows, as kubectl prints no
/// header for an empty list.
pub(crate) fn render_get(headers: &[String], rows: &[Vec<String>], no_headers: bool) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut text = String::new();
    if !no_headers {
        let upper: Vec<String> = headers.iter().map(|h| h.to_uppercase()).collect();
        text.push_str(&upper.join("\t"));
        text.push('\n');
    }
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| sanitize_cell(c)).collect();
        text.push_str(&cells.join("\t"));
        text.push('\n');
    }
    GET.format(&text)
}

/// kubectl cuts a cell at its first line break and marks the cut with `...`
/// (`appendCellValue` in tableprinter.go); tabs would break the layout, so they become spaces.
fn sanitize_cell(cell: &str) -> String {
    let (head, cut) = match cell.find(['\n', '\r', '\u{c}']) {
        Some(i) => (&cell[..i], true),
        None => (cell, false),
    };
    let mut s = head.replace('\t', " ");
    if cut {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    //! Cases follow Go's `text/tabwriter` example_test.go and kubectl's table output.
    use super::*;

    fn check(tw: TabWriter, input: &str, expected: &str) {
        assert_eq!(tw.format(input), expected, "input: {input:?}");
    }

    #[test]
    fn get_settings_pad_to_widest_cell_plus_three() {
        check(
            GET,
            "NAME\tREADY\tSTATUS\nweb-1\t1/1\tRunning\nweb-22\t0/1\tContainerCreating\n",
            "NAME     READY   STATUS\nweb-1    1/1     Running\nweb-22   0/1     ContainerCreating\n",
        );
    }

    #[test]
    fn min_width_applies_to_narrow_columns() {
        check(GET, "A\tB\nx\ty\n", "A     B\nx     y\n");
    }

    #[test]
    fn line_without_tab_ends_the_block() {
        check(
            DESCRIBE,
            "Name:\tx\nLong name here:\ty\nPod Template:\n  Labels:\tapp=a\n",
            "Name:            x\nLong name here:  y\nPod Template:\n  Labels:  app=a\n",
        );
    }

    #[test]
    fn nested_columns_have_their_own_blocks() {
        // Go's ExampleWriter_Init-like layout: the second column only spans lines that have it.
        check(
            DESCRIBE,
            "a\tb\tc\naa\tbbbbbb\ncc\tb\tc\n",
            "a   b  c\naa  bbbbbb\ncc  b  c\n",
        );
    }

    #[test]
    fn empty_cells_are_padded_and_last_cell_is_not() {
        check(
            DESCRIBE,
            "Key:\t\nLonger key:\tv \n",
            "Key:         \nLonger key:  v \n",
        );
    }

    #[test]
    fn render_get_cuts_multiline_cells() {
        let out = render_get(
            &["Name".to_string(), "Message".to_string()],
            &[vec!["a".to_string(), "line one\nline two".to_string()]],
            false,
        );
        assert_eq!(out, "NAME   MESSAGE\na      line one...\n");
    }

    #[test]
    fn render_get_empty_prints_nothing() {
        assert_eq!(render_get(&["Name".to_string()], &[], false), "");
    }
}
