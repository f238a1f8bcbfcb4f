//! Where the lines of a text went after an edit: a longest common
//! subsequence of whole lines, as a diff finds it. The debugger moves
//! breakpoints with it when a script is reloaded.

/// Lines of the old text that are still in the new one, with their new
/// numbers.
pub(crate) struct LineMap {
    /// For each old line (1-based, index 0 unused), its new line, if kept.
    new: Vec<Option<u32>>,
}

/// Above this many line pairs, lines are matched by number alone (the
/// table below would take too long to fill).
const MOST_PAIRS: usize = 4_000_000;

impl LineMap {
    pub(crate) fn between(old: &str, new: &str) -> LineMap {
        let a: Vec<&str> = old.lines().collect();
        let b: Vec<&str> = new.lines().collect();
        let mut map = vec![None; a.len() + 1];
        if a.len().saturating_mul(b.len()) > MOST_PAIRS {
            for (i, slot) in map.iter_mut().enumerate().skip(1) {
                *slot = (i <= b.len()).then_some(i as u32);
            }
            return LineMap { new: map };
        }
        // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
        let width = b.len() + 1;
        let mut lcs = vec![0u32; (a.len() + 1) * width];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                lcs[i * width + j] = if a[i] == b[j] {
                    lcs[(i + 1) * width + j + 1] + 1
                } else {
                    lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
                };
            }
        }
        // The matched lines, in order, as (old, new) indices.
        let mut anchors = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if a[i] == b[j] {
                anchors.push((i, j));
                i += 1;
                j += 1;
            } else if lcs[(i + 1) * width + j] >= lcs[i * width + j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
        anchors.push((a.len(), b.len()));
        // Between two matched lines, the old lines left over were changed
        // (as many as the new text has there, in order) or deleted (the
        // rest).
        let (mut old_from, mut new_from) = (0, 0);
        for (old_to, new_to) in anchors {
            for (k, old) in (old_from..old_to).enumerate() {
                let new = new_from + k;
                if new < new_to {
                    map[old + 1] = Some(new as u32 + 1);
                }
            }
            if old_to < a.len() {
                map[old_to + 1] = Some(new_to as u32 + 1);
            }
            (old_from, new_from) = (old_to + 1, new_to + 1);
        }
        LineMap { new: map }
    }

    /// The new number of old line `line`; `None` if it was deleted or
    /// changed.
    pub(crate) fn new_line(&self, line: u32) -> Option<u32> {
        self.new.get(line as usize).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::LineMap;

    #[test]
    fn kept_lines_move_and_deleted_ones_go() {
        let old = "a\nb\nc\nd\n";
        let new = "x\na\nc\nd\ny\n";
        let map = LineMap::between(old, new);
        assert_eq!(map.new_line(1), Some(2));
        assert_eq!(map.new_line(2), None);
        assert_eq!(map.new_line(3), Some(3));
        assert_eq!(map.new_line(4), Some(4));
        assert_eq!(map.new_line(9), None);
    }

    #[test]
    fn a_changed_line_keeps_its_place() {
        let map = LineMap::between("a\nb\nc\n", "a\nB!\nc\n");
        assert_eq!(map.new_line(2), Some(2));
        let map = LineMap::between("a\nb1\nb2\nc\n", "a\nB\nc\n");
        assert_eq!(
            (map.new_line(2), map.new_line(3), map.new_line(4)),
            (Some(2), None, Some(3))
        );
    }
}
