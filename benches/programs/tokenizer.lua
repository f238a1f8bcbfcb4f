-- tokenizer: the same source read character by character (string.sub,
-- comparisons of one-character strings, string.byte), identifiers built
-- with .., numbers accumulated; ten passes.
local src = string.rep("let x1 = 42 + foo_bar * (7 - y);\n", 2000)
local function is_alpha(c) return (c >= "a" and c <= "z") or c == "_" end
local function is_digit(c) return c >= "0" and c <= "9" end
local function tokenize(s)
  local toks, idents, nums, sum = 0, 0, 0, 0
  local i, n = 1, #s
  while i <= n do
    local c = string.sub(s, i, i)
    if is_alpha(c) then
      local w = ""
      while i <= n and (is_alpha(string.sub(s, i, i)) or is_digit(string.sub(s, i, i))) do
        w = w .. string.sub(s, i, i)
        i = i + 1
      end
      idents = idents + #w
    elseif is_digit(c) then
      local v = 0
      while i <= n and is_digit(string.sub(s, i, i)) do
        v = v * 10 + string.byte(s, i) - 48
        i = i + 1
      end
      nums = nums + 1
      sum = sum + v
    else
      i = i + 1
    end
    toks = toks + 1
  end
  return {toks, idents, nums, sum}
end
local r
for k = 1, 10 do r = tokenize(src) end
print(r[1], r[2], r[3], r[4])
