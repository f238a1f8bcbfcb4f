local puzzles = {
  "530070000600195000098000060800060003400803001700020006060000280000419005000080079",
  "000000907000420180000705026100904000050000040000507009920108000034059000507000000",
  "800000000003600000070090200050007000000045700000100030001000068008500010090000400",
}
local function box_of(r, c) return (r // 3) * 3 + c // 3 end
local function table_of(n)
  local t = {}
  for i = 0, n - 1 do
    local row = {}
    for d = 0, 9 do row[d] = false end
    t[i] = row
  end
  return t
end
local solve
solve = function(grid, rows, cols, boxes)
  local best = -1
  local best_count = 10
  for i = 0, 80 do
    if grid[i] == 0 then
      local r = i // 9
      local c = i % 9
      local b = box_of(r, c)
      local count = 0
      for d = 1, 9 do
        if not rows[r][d] and not cols[c][d] and not boxes[b][d] then count = count + 1 end
      end
      if count < best_count then best = i; best_count = count end
    end
  end
  if best < 0 then return true end
  local r = best // 9
  local c = best % 9
  local b = box_of(r, c)
  for d = 1, 9 do
    if not rows[r][d] and not cols[c][d] and not boxes[b][d] then
      grid[best] = d
      rows[r][d] = true; cols[c][d] = true; boxes[b][d] = true
      if solve(grid, rows, cols, boxes) then return true end
      rows[r][d] = false; cols[c][d] = false; boxes[b][d] = false
      grid[best] = 0
    end
  end
  return false
end
local checksum = 0
for round = 0, 3 do
  for _, p in ipairs(puzzles) do
    local grid = {}
    local rows = table_of(9)
    local cols = table_of(9)
    local boxes = table_of(9)
    for i = 0, 80 do
      local d = p:byte(i + 1) - 48
      grid[i] = d
      if d > 0 then
        rows[i // 9][d] = true
        cols[i % 9][d] = true
        boxes[box_of(i // 9, i % 9)][d] = true
      end
    end
    solve(grid, rows, cols, boxes)
    for i = 0, 80 do checksum = (checksum * 3 + grid[i] * (i + 1)) % 1000000007 end
  end
end
print(checksum)
