// The menu through the stock app (issue 11), in the order a merchant builds it: 分类管理
// (create a dish and a set-meal category, enable them, edit, the refused and the allowed
// deletion), 菜品管理 (a dish with two flavors and an uploaded picture, edit, on sale, the
// refused deletion), 套餐管理 (a set meal of that dish, edit, on sale, every refused
// deletion and start, the stop cascade). The refused deletions, starts and the stop cascade
// are also run on the demo menu, which needs no uploaded picture. Each step checks the page's
// own message and what the server stored. Screenshots: stock-category-dialog.png, stock-dish-form.png, stock-setmeal-form.png.

import assert from 'node:assert/strict';
import { Customer, screenshotPath } from '../helpers.mjs';
import { STOCK_BASE, adminSession, stockBefore, stockFixture, stockTest } from './fixture.mjs';
import { settled } from './probe.mjs';
import { button, choose, exactly, confirmBox, dialog, fill, formItem, makePng, openRoute, responseTo, rows, search, shownImage, toastOf, upload } from './ui.mjs';

const fx = stockFixture();
// The dish and set-meal forms require an uploaded picture (菜品图片不能为空 / 套餐图片不能为空),
// and the later flows work on what those forms created.
const S = { ctx: null, dishCat: '川湘小炒', mealCat: '超值套餐', dish: '水煮牛肉', setmeal: '双人超值餐' };

/** The category row whose first cell (分类名称) reads `name`. */
const catRow = (page, name) => rows(page).filter({ has: page.locator('td:first-child .cell', { hasText: exactly(name) }) });

/** The stored record named `name` from `/admin/<what>/page?name=`. */
async function stored(what, name) {
  const page = await fx.api.ok('GET', `/admin/${what}/page`, { query: { page: 1, pageSize: 10, name } });
  const found = page.records.filter((r) => r.name === name);
  assert.equal(found.length, 1, `one ${what} named ${name} (records: ${JSON.stringify(page.records)})`);
  return found[0];
}

/** Clicks the row's `action`, confirms the box reading `confirmText`, resolves the toast. */
async function rowAction(page, row, action, confirmText) {
  return toastOf(page, async () => {
    await button(row, action).click();
    await confirmBox(page, confirmText);
  });
}

async function categoryPage() {
  return openRoute(S.ctx, 'category', ['category/page']);
}

stockBefore(fx, async () => {
  S.ctx = (await adminSession(fx.browser)).ctx;
});

stockTest('分类管理: new categories start 禁用; 启用 lists them; a duplicate name is refused', async () => {
  const page = await categoryPage();
  const add = async (buttonText, name, sort, shot) => {
    await button(page.locator('.tableBar'), buttonText).click();
    const dlg = dialog(page, buttonText.replace('+ ', ''));
    await dlg.waitFor();
    await fill(page, '分类名称：', name);
    await fill(page, '排序：', sort);
    if (shot) await page.screenshot({ path: screenshotPath('stock-category-dialog.png'), animations: 'disabled' });
    const listed = responseTo(page, 'category/page');
    const toast = await toastOf(page, () => button(dlg, '确 定').click());
    if (toast.type === 'success') await listed;
    await settled(page);
    return toast;
  };
  assert.deepEqual(await add('+ 新增菜品分类', S.dishCat, 1, true), { type: 'success', text: '分类添加成功！' });
  assert.deepEqual(await add('+ 新增套餐分类', S.mealCat, 2), { type: 'success', text: '分类添加成功！' });
  for (const [name, kind] of [[S.dishCat, '菜品分类'], [S.mealCat, '套餐分类']]) {
    await search(page, '请填写分类名称', name, 'category/page');
    const row = catRow(page, name);
    assert.match(await row.innerText(), new RegExp(`${kind}[\\s\\S]*禁用`), `${name}: ${kind}, 禁用 when new`);
    assert.deepEqual(await rowAction(page, row, '启用', '确认调整该分类的状态?'), { type: 'success', text: '分类状态更改成功！' });
    await row.locator('.tableColumn-status', { hasText: '启用' }).waitFor();
  }
  const lists = await Promise.all([1, 2].map((type) => fx.api.ok('GET', '/admin/category/list', { query: { type } })));
  assert.ok(lists[0].some((c) => c.name === S.dishCat) && lists[1].some((c) => c.name === S.mealCat), 'both listed once enabled');

  const dup = await add('+ 新增菜品分类', S.dishCat, 3);
  assert.deepEqual(dup, { type: 'error', text: `'${S.dishCat}'已存在` });
  await page.close();
});

stockTest('分类管理: 修改 renames; 删除 is refused for a category with dishes, allowed for an empty one', async () => {
  const page = await categoryPage();
  await search(page, '请填写分类名称', '饮品', 'category/page');
  await button(catRow(page, '饮品'), '修改').click();
  const dlg = dialog(page, '修改分类');
  await dlg.waitFor();
  assert.equal(await formItem(page, '分类名称：').locator('input').inputValue(), '饮品');
  await fill(page, '分类名称：', '冷饮');
  const toast = await toastOf(page, () => button(dlg, '确 定').click());
  assert.deepEqual(toast, { type: 'success', text: '分类修改成功！' });
  await dlg.waitFor({ state: 'hidden' });
  await search(page, '请填写分类名称', '冷饮', 'category/page');
  await catRow(page, '冷饮').waitFor();

  // 冷饮 holds the demo drinks: refused, with the course's message (ASCII comma).
  assert.deepEqual(await rowAction(page, catRow(page, '冷饮'), '删除', '此操作将永久删除该分类'),
    { type: 'error', text: '当前分类关联了菜品,不能删除' });

  await button(page.locator('.tableBar'), '+ 新增菜品分类').click();
  const add = dialog(page, '新增菜品分类');
  await fill(page, '分类名称：', '临时分类');
  await fill(page, '排序：', 9);
  assert.equal((await toastOf(page, () => button(add, '确 定').click())).type, 'success');
  await search(page, '请填写分类名称', '临时分类', 'category/page');
  assert.deepEqual(await rowAction(page, catRow(page, '临时分类'), '删除', '此操作将永久删除该分类'), { type: 'success', text: '删除成功！' });
  await catRow(page, '临时分类').waitFor({ state: 'detached' });
  await page.close();
});

stockTest('图片上传: the dish form picture uploads, shows and is served; a script named .png is refused with 图片上传失败', async () => {
  // Only the upload: the form's other loads (category/list) are the catalog's and may fail.
  const page = await S.ctx.newPage();
  await page.goto(`${STOCK_BASE}/#/dish/add`);
  await page.locator('.avatar-uploader').waitFor();
  await settled(page);
  const uploaded = await upload(page, makePng(120, 80, [60, 140, 220]), '../../etc/passwd.png');
  assert.equal(uploaded.status(), 200, 'POST /api/common/upload (through nginx)');
  const reply = await uploaded.json();
  assert.equal(reply.code, 1, JSON.stringify(reply));
  const url = reply.data;
  assert.match(url, /^http:\/\/localhost:\d+\/images\/[0-9a-f]{32}\.png$/, 'an absolute URL under the public base, a random name');
  assert.deepEqual(await shownImage(page), { src: url, width: 120 }, 'the browser loads the uploaded picture');
  // The mini-program loads the same URL directly, without a token.
  const direct = await fetch(url);
  assert.deepEqual([direct.status, direct.headers.get('content-type'), direct.headers.get('x-content-type-options')], [200, 'image/png', 'nosniff']);

  const toast = await toastOf(page, async () => {
    const refused = responseTo(page, 'common/upload');
    await page.locator('.avatar-uploader input[type=file]').setInputFiles({ name: 'evil.png', mimeType: 'image/png', buffer: Buffer.from('#!/bin/sh\nrm -rf /\n') });
    assert.equal((await refused).status(), 415);
  });
  assert.deepEqual(toast, { type: 'error', text: '图片上传失败' });
  assert.deepEqual(await shownImage(page), { src: url, width: 120 }, 'the refused file does not replace the picture');
  await page.close();
});

stockTest('菜品管理 and 套餐管理 on the demo menu: every refused deletion and start, the 停售 cascade', async () => {
  const dishes = await openRoute(S.ctx, 'dish', ['dish/page', 'category/list']);
  const meals = await openRoute(S.ctx, 'setmeal', ['setmeal/page', 'category/list']);
  const cats = await categoryPage();
  const dish = async (name) => { await search(dishes, '请填写菜品名称', name, 'dish/page'); return rows(dishes, name); };
  const meal = async (name) => { await search(meals, '请填写套餐名称', name, 'setmeal/page'); return rows(meals, name); };
  const dishBox = '确认删除该菜品, 是否继续?';

  assert.deepEqual(await rowAction(dishes, await dish('宫保鸡丁'), '删除', dishBox), { type: 'error', text: '起售中的菜品不能删除' });
  assert.deepEqual(await rowAction(meals, await meal('商务简餐'), '删除', '确定删除该套餐?'), { type: 'error', text: '起售中的套餐不能删除' });
  await search(cats, '请填写分类名称', '人气套餐', 'category/page');
  assert.deepEqual(await rowAction(cats, catRow(cats, '人气套餐'), '删除', '此操作将永久删除该分类'), { type: 'error', text: '当前分类关联了套餐,不能删除' });

  // 停售 of 宫保鸡丁 stops the set meals holding it; they cannot start again while it is stopped,
  // and the stopped dish cannot go while a set meal holds it.
  assert.deepEqual(await rowAction(dishes, await dish('宫保鸡丁'), '停售', '确认更改该菜品状态?'), { type: 'success', text: '菜品状态已经更改成功！' });
  await (await dish('宫保鸡丁')).locator('.tableColumn-status', { hasText: '停售' }).waitFor();
  const single = await meal('单人川味套餐');
  await single.locator('.tableColumn-status', { hasText: '停售' }).waitFor();
  assert.deepEqual(await rowAction(meals, single, '启售', '确认更改该套餐状态?'), { type: 'error', text: '套餐内包含未启售菜品，无法启售' });
  assert.deepEqual(await rowAction(dishes, await dish('宫保鸡丁'), '删除', dishBox), { type: 'error', text: '当前菜品关联了套餐,不能删除' });
  const stored = await fx.api.ok('GET', '/admin/setmeal/page', { query: { page: 1, pageSize: 10, status: 0 } });
  assert.deepEqual(stored.records.map((r) => r.name).sort(), ['单人川味套餐', '双人分享套餐'].sort(), 'the cascade stopped both');

  // Back on sale, the dish lets its set meal start.
  assert.deepEqual(await rowAction(dishes, await dish('宫保鸡丁'), '启售', '确认更改该菜品状态?'), { type: 'success', text: '菜品状态已经更改成功！' });
  assert.deepEqual(await rowAction(meals, await meal('单人川味套餐'), '启售', '确认更改该套餐状态?'), { type: 'success', text: '套餐状态已经更改成功！' });
  await (await meal('单人川味套餐')).locator('.tableColumn-status', { hasText: '启售' }).waitFor();
  for (const p of [dishes, meals, cats]) await p.close();
});

stockTest('添加菜品: a dish with two flavors and an uploaded picture; the list shows it 停售', async () => {
  const page = await openRoute(S.ctx, 'dish', ['dish/page', 'category/list']);
  const opened = responseTo(page, 'category/list');
  await button(page.locator('.tableBar'), '+ 新建菜品').click();
  await opened;
  await settled(page);
  await fill(page, '菜品名称:', S.dish);
  await choose(page, formItem(page, '菜品分类:'), S.dishCat);
  await fill(page, '菜品价格:', '58.5');
  // Two flavors from the app's presets: 辣度, then 忌口.
  for (const [i, flavor] of [[0, '辣度'], [1, '忌口']]) {
    await page.locator('.flavorBox .addBut').click();
    const item = page.locator('.flavor .cont > .items').nth(i);
    await item.locator('.selectInput input').click();
    await item.locator('.flavorSelect .items').filter({ hasText: flavor }).click();
    await item.locator('.labItems span').first().waitFor();
  }
  const uploaded = await upload(page, makePng(200, 200), 'niurou.png');
  assert.equal(uploaded.status(), 200, 'POST /api/common/upload');
  const url = (await uploaded.json()).data;
  assert.match(url, /^https?:\/\/.+/, 'an absolute URL');
  const img = await shownImage(page);
  assert.deepEqual(img, { src: url, width: 200 }, 'the browser loads the uploaded picture');
  await formItem(page, '菜品描述:').locator('textarea').fill('牛肉片、豆芽、干辣椒');
  await page.screenshot({ path: screenshotPath('stock-dish-form.png'), animations: 'disabled' });

  const listed = responseTo(page, 'dish/page');
  const toast = await toastOf(page, () => button(page.locator('.subBox'), '保存').click());
  assert.deepEqual(toast, { type: 'success', text: '菜品添加成功！' });
  await listed;
  await search(page, '请填写菜品名称', S.dish, 'dish/page');
  const row = rows(page, S.dish);
  assert.match((await row.innerText()).replace(/\s+/g, ' '), new RegExp(`${S.dish} ${S.dishCat} ￥58.5 停售`));
  await page.waitForFunction((el) => el && el.complete && el.naturalWidth > 0, await row.locator('img').first().elementHandle());

  const dish = await fx.api.ok('GET', `/admin/dish/${(await stored('dish', S.dish)).id}`);
  assert.deepEqual({ price: dish.price, status: dish.status, image: dish.image, flavors: dish.flavors.map((f) => [f.name, JSON.parse(f.value)]) },
    { price: 58.5, status: 0, image: url, flavors: [['辣度', ['不辣', '微辣', '中辣', '重辣']], ['忌口', ['不要葱', '不要蒜', '不要香菜', '不要辣']]] });
  await page.close();
});

stockTest('菜品管理: 修改 changes the price; 启售 puts it on the customer menu; 删除 on sale is refused', async () => {
  const page = await openRoute(S.ctx, 'dish', ['dish/page', 'category/list']);
  await search(page, '请填写菜品名称', S.dish, 'dish/page');
  const loaded = responseTo(page, `dish/${(await stored('dish', S.dish)).id}`);
  await button(rows(page, S.dish), '修改').click();
  await loaded;
  await settled(page);
  assert.equal(await formItem(page, '菜品名称:').locator('input').inputValue(), S.dish);
  assert.equal(await formItem(page, '菜品价格:').locator('input').inputValue(), '58.5');
  await fill(page, '菜品价格:', '60');
  const listed = responseTo(page, 'dish/page');
  assert.deepEqual(await toastOf(page, () => button(page.locator('.subBox'), '保存').click()), { type: 'success', text: '菜品修改成功！' });
  await listed;
  await search(page, '请填写菜品名称', S.dish, 'dish/page');
  const row = rows(page, S.dish);
  assert.match(await row.innerText(), /￥60/);
  assert.equal((await fx.api.ok('GET', `/admin/dish/${(await stored('dish', S.dish)).id}`)).flavors.length, 2, 'flavors kept');

  assert.deepEqual(await rowAction(page, row, '启售', '确认更改该菜品状态?'), { type: 'success', text: '菜品状态已经更改成功！' });
  await row.locator('.tableColumn-status', { hasText: '启售' }).waitFor();
  const cat = (await fx.api.ok('GET', '/admin/category/list', { query: { type: 1 } })).find((c) => c.name === S.dishCat);
  const customer = new Customer(fx.server.base);
  await customer.login();
  const menu = await customer.call('GET', `/user/dish/list?categoryId=${cat.id}`);
  assert.deepEqual(menu.map((d) => [d.name, d.price, d.flavors.length]), [[S.dish, 60, 2]], 'the customer menu lists it, with its flavors');
  assert.deepEqual(await rowAction(page, row, '删除', '确认删除该菜品, 是否继续?'), { type: 'error', text: '起售中的菜品不能删除' });
  await page.close();
});

stockTest('添加套餐: a set meal of the new dish with a picture; the list shows it 停售', async () => {
  const page = await openRoute(S.ctx, 'setmeal', ['setmeal/page', 'category/list']);
  const opened = responseTo(page, 'category/list');
  await button(page.locator('.tableBar'), '+ 新建套餐').click();
  await opened;
  await settled(page);
  await fill(page, '套餐名称:', S.setmeal);
  await choose(page, formItem(page, '套餐分类:'), S.mealCat);
  await fill(page, '套餐价格:', '88');
  await page.locator('.addDish .addBut').first().click();
  const picker = dialog(page, '添加菜品');
  await picker.waitFor();
  const dishes = responseTo(page, 'dish/list');
  await picker.locator('.tabBut span').filter({ hasText: S.dishCat }).click();
  await dishes;
  await picker.locator('.el-checkbox').filter({ hasText: S.dish }).click();
  await picker.locator('.ritCont .item').filter({ hasText: S.dish }).waitFor();
  await button(picker, '添 加').click();
  await picker.waitFor({ state: 'hidden' });
  await page.locator('.addDish .table .el-table__row').filter({ hasText: S.dish }).waitFor();
  const uploaded = await upload(page, makePng(300, 300, [90, 170, 80]), 'taocan.png');
  const url = (await uploaded.json()).data;
  assert.equal((await shownImage(page)).width, 300, 'the browser loads the uploaded picture');
  await page.screenshot({ path: screenshotPath('stock-setmeal-form.png'), animations: 'disabled' });

  const listed = responseTo(page, 'setmeal/page');
  assert.deepEqual(await toastOf(page, () => button(page.locator('.subBox'), '保存').click()), { type: 'success', text: '套餐添加成功！' });
  await listed;
  await search(page, '请填写套餐名称', S.setmeal, 'setmeal/page');
  assert.match((await rows(page, S.setmeal).innerText()).replace(/\s+/g, ' '), new RegExp(`${S.setmeal} ${S.mealCat} ￥88 停售`));
  const meal = await fx.api.ok('GET', `/admin/setmeal/${(await stored('setmeal', S.setmeal)).id}`);
  assert.deepEqual({ price: meal.price, image: meal.image, dishes: meal.setmealDishes.map((d) => [d.name, d.copies]) },
    { price: 88, image: url, dishes: [[S.dish, 1]] });
  await page.close();
});

stockTest('套餐管理: 修改; 启售; every refused deletion and start; stopping its dish stops it', async () => {
  let page = await openRoute(S.ctx, 'setmeal', ['setmeal/page', 'category/list']);
  const find = async (p, name = S.setmeal) => { await search(p, '请填写套餐名称', name, 'setmeal/page'); return rows(p, name); };
  const id = (await stored('setmeal', S.setmeal)).id;
  const loaded = responseTo(page, `setmeal/${id}`);
  await button(await find(page), '修改').click();
  await loaded;
  await settled(page);
  assert.equal(await formItem(page, '套餐名称:').locator('input').inputValue(), S.setmeal);
  await fill(page, '套餐价格:', '99');
  const listed = responseTo(page, 'setmeal/page');
  assert.deepEqual(await toastOf(page, () => button(page.locator('.subBox'), '保存').click()), { type: 'success', text: '套餐修改成功！' });
  await listed;
  let row = await find(page);
  assert.match(await row.innerText(), /￥99/);

  assert.deepEqual(await rowAction(page, row, '启售', '确认更改该套餐状态?'), { type: 'success', text: '套餐状态已经更改成功！' });
  await row.locator('.tableColumn-status', { hasText: '启售' }).waitFor();
  assert.deepEqual(await rowAction(page, row, '删除', '确定删除该套餐?'), { type: 'error', text: '起售中的套餐不能删除' });

  // 停售 of the dish stops the set meal too; the set meal then cannot start.
  const dishes = await openRoute(S.ctx, 'dish', ['dish/page', 'category/list']);
  await search(dishes, '请填写菜品名称', S.dish, 'dish/page');
  assert.deepEqual(await rowAction(dishes, rows(dishes, S.dish), '停售', '确认更改该菜品状态?'), { type: 'success', text: '菜品状态已经更改成功！' });
  await page.close();
  page = await openRoute(S.ctx, 'setmeal', ['setmeal/page', 'category/list']);
  row = await find(page);
  await row.locator('.tableColumn-status', { hasText: '停售' }).waitFor();
  assert.deepEqual(await rowAction(page, row, '启售', '确认更改该套餐状态?'), { type: 'error', text: '套餐内包含未启售菜品，无法启售' });

  // The dish is stopped but in a set meal; the set-meal category holds a set meal.
  assert.deepEqual(await rowAction(dishes, rows(dishes, S.dish), '删除', '确认删除该菜品, 是否继续?'), { type: 'error', text: '当前菜品关联了套餐,不能删除' });
  const cats = await categoryPage();
  await search(cats, '请填写分类名称', S.mealCat, 'category/page');
  assert.deepEqual(await rowAction(cats, catRow(cats, S.mealCat), '删除', '此操作将永久删除该分类'), { type: 'error', text: '当前分类关联了套餐,不能删除' });

  // Stopped, the set meal goes; then its dish can go too.
  assert.deepEqual(await rowAction(page, row, '删除', '确定删除该套餐?'), { type: 'success', text: '删除成功！' });
  await row.waitFor({ state: 'detached' });
  assert.deepEqual(await rowAction(dishes, rows(dishes, S.dish), '删除', '确认删除该菜品, 是否继续?'), { type: 'success', text: '删除成功！' });
  for (const p of [page, dishes, cats]) await p.close();
});
