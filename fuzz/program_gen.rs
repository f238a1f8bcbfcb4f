//! Well-formed Ark programs from a stream of choices, so that fuzzing
//! reaches the interpreter, the natives and the collector instead of
//! stopping at the parser. Every variable is declared before it is used and
//! every function is called with its arity; what the program does with its
//! values (adding a list to a string, indexing past the end, recursing
//! without end) is left to chance: those end in runtime errors, which is
//! what the VM must survive.
//!
//! Shared by `fuzz_targets/programs.rs` (choices from libFuzzer's bytes)
//! and `vm/tests/fuzz_smoke.rs` (choices from a seeded generator).

/// Where the choices come from: a byte a choice; zeros once the bytes run
/// out, which ends every construct with its simplest option.
pub struct Choices<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Choices<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Choices { bytes, at: 0 }
    }

    /// A number below `n`.
    fn pick(&mut self, n: usize) -> usize {
        let byte = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        byte as usize % n.max(1)
    }

    fn exhausted(&self) -> bool {
        self.at >= self.bytes.len()
    }
}

const BINARY: &[&str] = &[
    "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "&", "|", "^", "<<",
    ">>",
];
/// Global functions and their arities.
const BUILTINS: &[(&str, usize)] = &[
    ("str", 1),
    ("len", 1),
    ("type", 1),
    ("abs", 1),
    ("floor", 1),
    ("sqrt", 1),
    ("sin", 1),
    ("min", 2),
    ("max", 2),
    ("clamp", 3),
    ("vec3", 3),
    ("quat", 4),
    ("quat_axis_angle", 2),
    ("print", 1),
    ("random", 0),
    ("char", 1),
];
/// Methods and their arities (on whatever the receiver turns out to be).
const METHODS: &[(&str, usize)] = &[
    ("push", 1),
    ("pop", 0),
    ("len", 0),
    ("slice", 2),
    ("upper", 0),
    ("lower", 0),
    ("trim", 0),
    ("split", 1),
    ("join", 1),
    ("contains", 1),
    ("find", 1),
    ("keys", 0),
    ("values", 0),
    ("sort", 0),
    ("reverse", 0),
    ("repeat", 1),
    ("replace", 2),
    ("inverse", 0),
    ("slerp", 2),
    ("chars", 0),
    ("code", 1),
    ("insert", 2),
    ("remove", 1),
    ("length", 0),
    ("normalize", 0),
    ("dot", 1),
];
const STRINGS: &[&str] = &["\"\"", "\"a\"", "\"ab,c\"", "\"héllo\"", "\"x\""];
const FIELDS: &[&str] = &["a", "b", "hp", "pos"];

pub struct Generator<'a, 'c> {
    choices: &'c mut Choices<'a>,
    out: String,
    /// Variables in scope, innermost last.
    scopes: Vec<Vec<String>>,
    /// Functions declared so far: name and arity.
    functions: Vec<(String, usize)>,
    next_name: usize,
}

/// A program of a few functions and top-level statements.
pub fn program(choices: &mut Choices<'_>) -> String {
    let mut g = Generator {
        choices,
        out: String::new(),
        scopes: vec![Vec::new()],
        functions: Vec::new(),
        next_name: 0,
    };
    let functions = g.choices.pick(4);
    for _ in 0..functions {
        g.function();
    }
    let statements = 1 + g.choices.pick(12);
    for _ in 0..statements {
        g.statement(0);
    }
    g.out
}

impl Generator<'_, '_> {
    fn fresh(&mut self, prefix: &str) -> String {
        self.next_name += 1;
        format!("{prefix}{}", self.next_name)
    }

    fn variable(&mut self) -> Option<String> {
        let all: Vec<&String> = self.scopes.iter().flatten().collect();
        if all.is_empty() {
            return None;
        }
        Some(all[self.choices.pick(all.len())].clone())
    }

    fn declare(&mut self, name: String) {
        self.scopes.last_mut().expect("a scope").push(name);
    }

    fn function(&mut self) {
        let name = self.fresh("f");
        let arity = self.choices.pick(3);
        let params: Vec<String> = (0..arity).map(|_| self.fresh("p")).collect();
        // Declared first, so that it can call itself.
        self.functions.push((name.clone(), arity));
        self.out
            .push_str(&format!("fn {name}({}) {{\n", params.join(", ")));
        self.scopes.push(params);
        let statements = self.choices.pick(5);
        for _ in 0..statements {
            self.statement(1);
        }
        self.out.push_str("return ");
        self.expression(0);
        self.out.push_str(";\n}\n");
        self.scopes.pop();
    }

    fn block(&mut self, depth: usize) {
        self.out.push_str("{\n");
        self.scopes.push(Vec::new());
        let statements = self.choices.pick(4);
        for _ in 0..statements {
            self.statement(depth + 1);
        }
        self.scopes.pop();
        self.out.push_str("}\n");
    }

    fn statement(&mut self, depth: usize) {
        let kinds = if depth > 3 || self.choices.exhausted() {
            3
        } else {
            10
        };
        match self.choices.pick(kinds) {
            0 if self.choices.pick(4) == 0 => {
                // Unpacking: one to three names, of any value (most are
                // not lists of that length, and fail).
                let names: Vec<String> = (0..1 + self.choices.pick(3))
                    .map(|_| self.fresh("u"))
                    .collect();
                self.out.push_str(&format!("let [{}] = ", names.join(", ")));
                self.expression(0);
                self.out.push_str(";\n");
                for name in names {
                    self.declare(name);
                }
            }
            0 => {
                let name = self.fresh("v");
                self.out.push_str(&format!("let {name} = "));
                self.expression(0);
                self.out.push_str(";\n");
                self.declare(name);
            }
            1 => match self.variable() {
                Some(v) => {
                    let op = ["=", "+=", "-=", "*="][self.choices.pick(4)];
                    self.out.push_str(&format!("{v} {op} "));
                    self.expression(0);
                    self.out.push_str(";\n");
                }
                None => self.out.push_str("yield;\n"),
            },
            2 => {
                // A call for its effect (an expression statement must not
                // start with `{`, which would be a block).
                self.out.push('(');
                self.expression(0);
                let (name, arity) = METHODS[self.choices.pick(METHODS.len())];
                self.out.push_str(").");
                self.call(name, arity, 1);
                self.out.push_str(";\n");
            }
            3 => {
                self.out.push_str("if ");
                self.expression(1);
                self.out.push(' ');
                self.block(depth);
                if self.choices.pick(2) == 0 {
                    self.out.push_str("else ");
                    self.block(depth);
                }
            }
            4 => {
                let i = self.fresh("i");
                let n = self.choices.pick(40);
                self.out.push_str(&format!("for {i} in 0..{n} "));
                self.scopes.push(vec![i]);
                self.block(depth);
                self.scopes.pop();
            }
            5 => {
                // Runs until the budget or an error stops it.
                self.out.push_str("while true ");
                self.block(depth);
            }
            6 | 7 => match self.variable() {
                // Only a variable, indexed or with a field, is assigned to.
                Some(v) => {
                    self.out.push_str(&v);
                    if self.choices.pick(2) == 0 {
                        self.out.push('[');
                        self.expression(1);
                        self.out.push(']');
                    } else {
                        let field = FIELDS[self.choices.pick(FIELDS.len())];
                        self.out.push_str(&format!(".{field}"));
                    }
                    self.out.push_str(" = ");
                    self.expression(1);
                    self.out.push_str(";\n");
                }
                None => self.out.push_str("yield;\n"),
            },
            8 => self.out.push_str("yield;\n"),
            _ => {
                let v = self.fresh("x");
                self.out.push_str(&format!("for {v} in "));
                self.expression(1);
                self.out.push(' ');
                self.scopes.push(vec![v]);
                self.block(depth);
                self.scopes.pop();
            }
        }
    }

    fn expression(&mut self, depth: usize) {
        let kinds = if depth > 4 || self.choices.exhausted() {
            4
        } else {
            14
        };
        match self.choices.pick(kinds) {
            0 => {
                let n =
                    [0, 1, 2, -1, 7, 1000, 9_007_199_254_740_993, i64::MAX][self.choices.pick(8)];
                self.out.push_str(&n.to_string());
            }
            1 => {
                let x = ["0.5", "-2.0", "1e300", "0.0", "3.25"][self.choices.pick(5)];
                self.out.push_str(x);
            }
            2 => self.out.push_str(STRINGS[self.choices.pick(STRINGS.len())]),
            3 => match self.variable() {
                Some(v) => self.out.push_str(&v),
                None => self
                    .out
                    .push_str(["nil", "true", "false"][self.choices.pick(3)]),
            },
            4 => {
                self.out.push('(');
                self.expression(depth + 1);
                let op = BINARY[self.choices.pick(BINARY.len())];
                self.out.push_str(&format!(" {op} "));
                self.expression(depth + 1);
                self.out.push(')');
            }
            5 => {
                self.out
                    .push_str(["-(", "not (", "~("][self.choices.pick(3)]);
                self.expression(depth + 1);
                self.out.push(')');
            }
            6 => {
                self.out.push('[');
                let n = self.choices.pick(4);
                self.separated(n, |g, _| g.expression(depth + 1));
                self.out.push(']');
            }
            7 => {
                self.out.push('{');
                let n = self.choices.pick(3);
                self.separated(n, |g, i| {
                    g.out.push_str(&format!("{}: ", FIELDS[i % FIELDS.len()]));
                    g.expression(depth + 1);
                });
                self.out.push('}');
            }
            8 => {
                let (name, arity) = BUILTINS[self.choices.pick(BUILTINS.len())];
                self.call(name, arity, depth);
            }
            9 if !self.functions.is_empty() => {
                let (name, arity) = self.functions[self.choices.pick(self.functions.len())].clone();
                self.call(&name, arity, depth);
            }
            10 => {
                self.out.push('(');
                self.expression(depth + 1);
                let (name, arity) = METHODS[self.choices.pick(METHODS.len())];
                self.out.push_str(").");
                self.call(name, arity, depth);
            }
            11 => {
                self.out.push('(');
                self.expression(depth + 1);
                self.out.push_str(")[");
                self.expression(depth + 1);
                self.out.push(']');
            }
            12 => {
                // A closure over what is in scope.
                let p = self.fresh("c");
                self.out.push_str(&format!("fn({p}) {{ return "));
                self.scopes.push(vec![p]);
                self.expression(depth + 1);
                self.scopes.pop();
                self.out.push_str("; }");
            }
            _ => {
                self.out.push('(');
                self.expression(depth + 1);
                let field = FIELDS[self.choices.pick(FIELDS.len())];
                self.out.push_str(&format!(").{field}"));
            }
        }
    }

    fn call(&mut self, name: &str, arity: usize, depth: usize) {
        self.out.push_str(name);
        self.out.push('(');
        self.separated(arity, |g, _| g.expression(depth + 1));
        self.out.push(')');
    }

    /// `n` items that `item` writes, with commas between.
    fn separated(&mut self, n: usize, mut item: impl FnMut(&mut Self, usize)) {
        for i in 0..n {
            if i > 0 {
                self.out.push_str(", ");
            }
            item(self, i);
        }
    }
}
