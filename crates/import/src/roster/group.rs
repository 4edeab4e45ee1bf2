//! Step 3 of a roster plan: the rows into households. With a head's-ID column, by that
//! number. Otherwise by the rows themselves: a household starts at a head's row, and
//! wherever the village (or, when the roster has the column, the head's name) changes.
//! Refused rows count as much as read ones here: the members below a refused head's row
//! belong to that head, so they are held back with the head's row named, never taken for
//! members of the household above.

use std::collections::HashMap;

use super::read::{Mark, PersonRow};
use super::Verdict;

/// What the grouping reads and where it writes the verdicts of the rows it holds back.
pub(super) struct Rows<'a> {
    pub(super) people: &'a [PersonRow],
    pub(super) lines: &'a [usize],
    pub(super) marks: &'a [Mark],
    /// Rows that repeat an earlier row of the same person, and that earlier row.
    pub(super) same_as: &'a HashMap<usize, usize>,
    pub(super) outcome: &'a mut [Option<(Verdict, String)>],
}

/// Households by the head's ID number on every row (positions in `people`).
pub(super) fn by_head_id(people: &[PersonRow]) -> Vec<Vec<u32>> {
    let mut households: Vec<Vec<u32>> = Vec::new();
    let mut by_head: HashMap<&str, usize> = HashMap::new();
    for (position, person) in people.iter().enumerate() {
        let key = person.head_id.as_ref().unwrap_or(&person.id).as_str();
        let slot = *by_head.entry(key).or_insert_with(|| {
            households.push(Vec::new());
            households.len() - 1
        });
        households[slot].push(position as u32);
    }
    households
}

/// The rows of one household as the file has them.
struct Group {
    key: Option<u64>,
    rows: Vec<usize>,
    head: Option<usize>,
}

/// Households by the rows (positions in `people`, head first). `named`: the roster has a
/// head's-name column, so a head's row may come anywhere among its members.
pub(super) fn by_rows(rows: Rows<'_>, named: bool) -> Vec<Vec<u32>> {
    let Rows { people, lines, marks, same_as, outcome } = rows;
    let mut position_of: Vec<Option<u32>> = vec![None; marks.len()];
    for (position, person) in people.iter().enumerate() {
        position_of[person.index] = Some(position as u32);
    }
    let mut households: Vec<Vec<u32>> = Vec::new();
    let mut slot_of_head: HashMap<u32, usize> = HashMap::new();
    let mut close = |group: Group, outcome: &mut [Option<(Verdict, String)>]| {
        let members: Vec<usize> = group
            .rows
            .iter()
            .copied()
            .filter(|&i| Some(i) != group.head && position_of[i].is_some())
            .collect();
        let refuse_all = |outcome: &mut [Option<(Verdict, String)>], reason: String| {
            for &member in &members {
                outcome[member] = Some((Verdict::Refused, reason.clone()));
            }
        };
        let Some(head) = group.head else {
            if members.is_empty() {
                return;
            }
            let first = lines[group.rows[0]];
            let reason = if named {
                format!(
                    "找不到所属户主：名单中没有本户（第{first}行起，户主姓名相同、同一村）的户主行。请补上户主一行（与户主关系填“户主”），或核对“户主姓名”是否与户主行一致"
                )
            } else {
                format!(
                    "找不到所属户主：第{first}行起的成员前面没有本户的户主行。请把户主行放在家庭成员之前，或增加“户主姓名”或“户主身份证号”列"
                )
            };
            refuse_all(outcome, reason);
            return;
        };
        // The head's row, or the earlier row it repeats (the same person).
        let head_position =
            position_of[head].or_else(|| same_as.get(&head).and_then(|&earlier| position_of[earlier]));
        match head_position {
            Some(head_position) => {
                let slot = *slot_of_head.entry(head_position).or_insert_with(|| {
                    households.push(vec![head_position]);
                    households.len() - 1
                });
                households[slot].extend(members.iter().map(|&m| position_of[m].expect("a member read")));
            }
            None => {
                let line = lines[head];
                let why = match &outcome[head] {
                    Some((Verdict::Refused, reason)) => format!("（{reason}）"),
                    _ => String::new(),
                };
                refuse_all(
                    outcome,
                    format!("户主行（第{line}行）未能导入{why}：请先更正第{line}行，本行与户主一并重新导入"),
                );
            }
        }
    };
    let mut current: Option<Group> = None;
    for (index, mark) in marks.iter().enumerate() {
        let key = mark.key.or(current.as_ref().and_then(|g| g.key));
        let starts = match &current {
            None => true,
            Some(group) => key != group.key || (mark.head && (!named || group.head.is_some())),
        };
        if starts {
            if let Some(group) = current.take() {
                close(group, outcome);
            }
            current = Some(Group { key, rows: Vec::new(), head: None });
        }
        let group = current.as_mut().expect("a group");
        group.rows.push(index);
        if mark.head {
            group.head = Some(index);
        }
    }
    if let Some(group) = current {
        close(group, outcome);
    }
    households
}
