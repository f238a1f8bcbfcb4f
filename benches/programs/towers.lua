local moves = 0
local function push_disk(piles, disk, pile)
  local top = piles[pile]
  if top ~= nil and disk.size >= top.size then error("cannot put a big disk on a smaller one") end
  disk.next = top
  piles[pile] = disk
end
local function pop_disk(piles, pile)
  local top = piles[pile]
  if top == nil then error("empty pile") end
  piles[pile] = top.next
  top.next = nil
  return top
end
local function move_top(piles, from, to)
  push_disk(piles, pop_disk(piles, from), to)
  moves = moves + 1
end
local function move_disks(piles, disks, from, to)
  if disks == 1 then
    move_top(piles, from, to)
  else
    local other = 3 - from - to
    move_disks(piles, disks - 1, from, other)
    move_top(piles, from, to)
    move_disks(piles, disks - 1, other, to)
  end
end
local total = 0
for round = 0, 59 do
  local piles = {}
  for i = 13, 0, -1 do push_disk(piles, {size = i, next = nil}, 0) end
  moves = 0
  move_disks(piles, 14, 0, 1)
  total = total + moves
end
print(total)
