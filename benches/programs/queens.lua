local function solve(row, n, cols, diag1, diag2)
  if row == n then return 1 end
  local count = 0
  for c = 0, n - 1 do
    local d1 = row + c
    local d2 = row - c + n - 1
    if not cols[c] and not diag1[d1] and not diag2[d2] then
      cols[c] = true
      diag1[d1] = true
      diag2[d2] = true
      count = count + solve(row + 1, n, cols, diag1, diag2)
      cols[c] = false
      diag1[d1] = false
      diag2[d2] = false
    end
  end
  return count
end
local function board(n)
  local l = {}
  for i = 0, n - 1 do l[i] = false end
  return l
end
local total = 0
for n = 4, 12 do
  total = total * 7 + solve(0, n, board(n), board(2 * n), board(2 * n))
end
print(total)
