export declare function userIndex(user: string): number;
export declare function pairGroupId(a: number, b: number): string;
